//! Draining the outbox: every pending entry coalesced into one batch, collapsed to
//! `/*` when exact paths would strain CloudFront's quota or cost more than they
//! save, sent with one caller reference per batch, retried with backoff while the
//! CDN is busy, and cleared only once accepted.
//!
//! The quota (CloudFront Developer Guide, "Concurrent invalidation request
//! maximum"): at most 15 wildcard paths and 3,000 file paths in progress per
//! distribution; beyond it CreateInvalidation fails with
//! `TooManyInvalidationsInProgress`. An invalidation stays in progress for a minute
//! or more, so one batch may use only part of it.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

use super::outbox::{Outbox, Queued, Sent};
use super::{Cdn, CdnError};
use crate::error::StoreError;

/// Wildcard paths one batch may carry: a third of the 15 in progress, so three
/// batches can be in flight at once.
pub const MAX_WILDCARDS: usize = 5;

/// Paths one batch may carry before `/*` is cheaper. Past the free 1,000 paths a
/// month each path costs $0.005, so 30 paths cost 30 times one `/*`; what `/*`
/// costs instead is one cache miss per page afterwards (a function invocation and
/// a DynamoDB read, about $0.0000004 each). Up to 30, exact paths keep the rest of
/// the site cached: one or two publishes (a new post with two tags is 15 paths; an
/// edit of its body 5).
pub const MAX_PATHS: usize = 30;

/// The path that invalidates everything.
pub const EVERYTHING: &str = "/*";

/// Batches sent per drain before it leaves the rest to the next trigger.
const MAX_BATCHES: usize = 3;

/// First wait after the CDN refused a batch as busy; it doubles up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(20);

/// The batch for `pending`: their paths, each once, sorted; or [`EVERYTHING`].
pub fn batch(pending: &[Queued]) -> Vec<String> {
    let paths: BTreeSet<&str> = pending
        .iter()
        .flat_map(|q| q.paths.iter().map(String::as_str))
        .collect();
    let wildcards = paths.iter().filter(|p| p.ends_with('*')).count();
    if paths.contains(EVERYTHING) || wildcards > MAX_WILDCARDS || paths.len() > MAX_PATHS {
        return vec![EVERYTHING.to_owned()];
    }
    paths.into_iter().map(str::to_owned).collect()
}

/// One caller reference per set of entries: a retry of the same batch (after a
/// timeout, or a crash before the entries were cleared) creates nothing new.
fn reference(pending: &[Queued]) -> String {
    let first = pending.first().map_or("", |q| q.id.as_str());
    let last = pending.last().map_or("", |q| q.id.as_str());
    let trim = |id: &str| id.trim_start_matches('0').to_owned();
    format!("outbox-{}-{}-{}", trim(first), trim(last), pending.len())
}

/// What a drain did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drained {
    /// Batches the CDN accepted.
    pub sent: Vec<Sent>,
    /// Entries still pending (held, or left for the next trigger).
    pub left: usize,
    /// Whether the outbox was held.
    pub held: bool,
}

/// Why a drain stopped with entries still pending. They stay in the outbox.
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// Reading or clearing the outbox failed.
    #[error("outbox: {0}")]
    Store(#[from] StoreError),
    /// The CDN refused the batch, or stayed busy until the time ran out.
    #[error("{entries} queued invalidation(s) ({paths} path(s)) not delivered after {attempts} attempt(s): {error}")]
    Undelivered {
        /// Entries pending.
        entries: usize,
        /// Paths in the batch.
        paths: usize,
        /// CreateInvalidation calls made for it.
        attempts: u32,
        /// The CDN's last answer.
        error: CdnError,
    },
}

/// Time an invocation keeps for sending after re-rendering: a busy CDN is waited
/// out within it.
#[cfg(feature = "authoring")]
const SEND_SHARE: Duration = Duration::from_secs(30);

/// What one invocation of the drain function did.
#[cfg(feature = "authoring")]
#[derive(Debug)]
pub struct Woken {
    /// The re-render's part (see [`crate::rerender::wake`]); its error is logged
    /// and left to the next invocation, and never stops the sending below.
    pub rerender: crate::rerender::Wake,
    /// What was sent; an error leaves entries pending (the answers due above
    /// are still due).
    pub drained: Result<Drained, DrainError>,
}

/// One invocation of the drain function, whatever woke it: a scheduled post's
/// schedule (`{"scheduled": {"slug": ..}}`) first queues what that post's minute
/// changed; the sweep (an EventBridge scheduled event) first looks for posts whose
/// schedule never came; the table's stream needs nothing first. Then the re-render
/// does its part (a deploy's CloudFormation request starts it, a recorded run
/// continues; see `crate::rerender`), and everything pending is sent.
#[cfg(feature = "authoring")]
pub async fn on_event<P, C>(
    store: &P,
    cdn: &C,
    event: &serde_json::Value,
    budget: Duration,
) -> Result<Woken, DrainError>
where
    P: crate::store::Posts + crate::store::PostWriter + Outbox + crate::rerender::RenderLedger,
    C: Cdn,
{
    let start = Instant::now();
    let now = Utc::now();
    if let Some(slug) = event["scheduled"]["slug"].as_str() {
        let slug = crate::post::Slug::parse(slug)
            .map_err(|e| StoreError::Corrupt(format!("the schedule's slug: {e}")))?;
        crate::schedule::fire(store, &slug, now).await?;
    } else if event["source"] == "aws.events" {
        let caught = crate::schedule::sweep(store, now).await?;
        if caught > 0 {
            tracing::warn!(caught, "posts turned public without their schedule");
        }
    }
    let until = start + budget.saturating_sub(SEND_SHARE).max(budget / 2);
    let rerender = match crate::rerender::wake(store, event, until.into_std()).await {
        Ok(wake) => wake,
        Err(e) => {
            tracing::error!(error = %e, "the re-render stopped; the next invocation goes on");
            crate::rerender::Wake::default()
        }
    };
    if let Some(p) = rerender.progress.as_ref().filter(|p| !p.up_to_date) {
        tracing::info!(
            rerendered = p.rerendered.len(),
            raced = p.raced.len(),
            failed = p.failed.len(),
            left = p.left,
            invalidation = p.invalidation.as_deref(),
            "bringing the site to this build's versions"
        );
    }
    let drained = drain(store, cdn, budget.saturating_sub(start.elapsed())).await;
    Ok(Woken { rerender, drained })
}

/// Sends everything pending, retrying while the CDN is busy until `budget` runs out.
pub async fn drain<O: Outbox, C: Cdn>(
    outbox: &O,
    cdn: &C,
    budget: Duration,
) -> Result<Drained, DrainError> {
    let deadline = Instant::now() + budget;
    let mut done = Drained::default();
    let mut delay = FIRST_DELAY;
    let mut attempts = 0;
    loop {
        let state = outbox.outbox().await?;
        done.left = state.pending.len();
        done.held = state.held(Utc::now());
        if done.held || state.pending.is_empty() || done.sent.len() == MAX_BATCHES {
            return Ok(done);
        }
        let paths = batch(&state.pending);
        attempts += 1;
        match cdn.invalidate(&paths, &reference(&state.pending)).await {
            Ok(id) => {
                let ids: Vec<String> = state.pending.iter().map(|q| q.id.clone()).collect();
                let queued_paths = state
                    .pending
                    .iter()
                    .flat_map(|q| &q.paths)
                    .collect::<BTreeSet<_>>()
                    .len();
                let sent = Sent {
                    id,
                    paths,
                    entries: ids.len(),
                    queued_paths,
                    attempts,
                    sent_at: Utc::now(),
                };
                outbox.clear(&ids, &sent).await?;
                tracing::info!(id = %sent.id, entries = sent.entries, paths = ?sent.paths, attempts, "invalidation sent");
                done.sent.push(sent);
                (attempts, delay) = (0, FIRST_DELAY);
            }
            Err(error) if error.retryable && Instant::now() + delay < deadline => {
                tracing::warn!(%error, attempts, wait_ms = delay.as_millis() as u64, "CDN busy; waiting");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_DELAY);
            }
            Err(error) => {
                return Err(DrainError::Undelivered {
                    entries: state.pending.len(),
                    paths: paths.len(),
                    attempts,
                    error,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdn::outbox::MemoryOutbox;
    use std::sync::Mutex;

    fn queued(id: u64, paths: &[&str]) -> Queued {
        Queued {
            id: format!("{id:020}"),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            queued_at: Utc::now(),
        }
    }

    #[test]
    fn batches_coalesce_and_collapse_by_the_rule() {
        let a = queued(1, &["/", "/?*", "/posts/a/", "/feed.xml"]);
        let b = queued(2, &["/", "/?*", "/posts/b/", "/feed.xml"]);
        assert_eq!(
            batch(&[a.clone(), b]),
            ["/", "/?*", "/feed.xml", "/posts/a/", "/posts/b/"]
        );
        // Six wildcards: more than a third of the quota.
        let tags: Vec<String> = (0..6).map(|i| format!("/tags/t{i}/?*")).collect();
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        assert_eq!(batch(&[a.clone(), queued(3, &tags)]), [EVERYTHING]);
        // 31 files.
        let files: Vec<String> = (0..31).map(|i| format!("/posts/p{i}/")).collect();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        assert_eq!(batch(&[queued(4, &files)]), [EVERYTHING]);
        assert_eq!(batch(&[queued(5, &files[..30])]).len(), 30);
        assert_eq!(batch(&[a, queued(6, &["/*"])]), [EVERYTHING]);
    }

    /// A CDN that answers busy `busy` times, then accepts; records every call.
    struct Busy {
        busy: Mutex<u32>,
        calls: Mutex<Vec<(Vec<String>, String)>>,
        permanent: bool,
    }

    impl Cdn for Busy {
        async fn invalidate(&self, paths: &[String], reference: &str) -> Result<String, CdnError> {
            let mut calls = self.calls.lock().unwrap();
            calls.push((paths.to_vec(), reference.to_owned()));
            let mut busy = self.busy.lock().unwrap();
            if *busy > 0 {
                *busy -= 1;
                return Err(if self.permanent {
                    CdnError::permanent("AccessDenied")
                } else {
                    CdnError::transient("TooManyInvalidationsInProgress")
                });
            }
            Ok(format!("I{}", calls.len()))
        }
    }

    fn busy(n: u32, permanent: bool) -> Busy {
        Busy {
            busy: Mutex::new(n),
            calls: Mutex::default(),
            permanent,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_cdn_is_retried_with_one_reference_and_entries_clear_only_when_accepted() {
        let outbox = MemoryOutbox::default();
        outbox.push(&["/posts/a/".into()], Utc::now());
        outbox.push(&["/posts/b/".into(), "/posts/a/".into()], Utc::now());
        let cdn = busy(3, false);
        let done = drain(&outbox, &cdn, Duration::from_secs(60)).await.unwrap();
        let calls = cdn.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 4);
        assert!(calls.iter().all(|c| c == &calls[0]), "{calls:?}");
        assert_eq!(calls[0].0, ["/posts/a/", "/posts/b/"]);
        assert_eq!(done.sent.len(), 1);
        assert_eq!((done.sent[0].entries, done.sent[0].attempts), (2, 4));
        let state = outbox.outbox().await.unwrap();
        assert!(state.pending.is_empty());
        assert_eq!(state.sent, done.sent);
    }

    #[tokio::test(start_paused = true)]
    async fn what_cannot_be_delivered_stays_queued() {
        let outbox = MemoryOutbox::default();
        outbox.push(&["/posts/a/".into()], Utc::now());
        // Busy for longer than the budget.
        let cdn = busy(100, false);
        let err = drain(&outbox, &cdn, Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(
            matches!(err, DrainError::Undelivered { entries: 1, .. }),
            "{err}"
        );
        assert_eq!(outbox.outbox().await.unwrap().pending.len(), 1);
        // A refusal is not retried.
        let cdn = busy(1, true);
        let err = drain(&outbox, &cdn, Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("AccessDenied"), "{err}");
        assert_eq!(cdn.calls.lock().unwrap().len(), 1);
        // The next drain delivers it.
        let done = drain(&outbox, &cdn, Duration::from_secs(30)).await.unwrap();
        assert_eq!((done.sent.len(), done.left), (1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_keeps_everything_queued_until_released() {
        let outbox = MemoryOutbox::default();
        outbox.push(&["/posts/a/".into()], Utc::now());
        outbox
            .hold(Some(Utc::now() + chrono::Duration::minutes(5)))
            .await
            .unwrap();
        let cdn = busy(0, false);
        let done = drain(&outbox, &cdn, Duration::from_secs(5)).await.unwrap();
        assert!(done.held && done.sent.is_empty() && done.left == 1);
        outbox.hold(None).await.unwrap();
        let done = drain(&outbox, &cdn, Duration::from_secs(5)).await.unwrap();
        assert_eq!((done.sent.len(), done.left), (1, 0));
        assert_eq!(cdn.calls.lock().unwrap().len(), 1);
    }
}
