//! Bringing a deployed site up to its code. Post HTML is rendered once, at publish,
//! and stored; a deploy whose renderer differs ([`crate::version::RENDERER`])
//! re-renders every post that an older one made, from its stored Markdown, through
//! the store's one conditional writer, and a deploy whose pages differ
//! ([`crate::version::PAGES`]: templates, styles, the renderer) queues one `/*`.
//!
//! The store records the versions its posts and cached pages were made with
//! ([`SiteVersions`]); [`run`] compares them with its own and is safe to repeat.
//! Each post is written conditional on the version it was read at, so a publish
//! racing the re-render wins and the re-render skips that post; a run cut short
//! leaves the rest for the next, which finds them by their stamp; the versions are
//! recorded, with the `/*`, in one conditional write, so two runs finishing together
//! queue one invalidation. Who starts a run and who answers the deploy waiting for
//! it is [`wake`]'s business.

use std::future::Future;
#[cfg(feature = "authoring")]
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "authoring")]
use crate::cdn::outbox::Outbox;
use crate::error::StoreError;
use crate::post::Slug;
#[cfg(feature = "authoring")]
use crate::store::{Expected, PostWriter};

pub mod cloudformation;
#[cfg(feature = "authoring")]
mod wake;

#[cfg(feature = "authoring")]
pub use wake::{wake, Wake};

/// What a site's stored posts and cached pages were made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteVersions {
    /// The renderer every stored post was brought to.
    pub renderer: String,
    /// The pages the CDN was last told about.
    pub pages: String,
}

impl SiteVersions {
    /// This build's.
    pub fn current() -> Self {
        Self {
            renderer: crate::version::RENDERER.to_owned(),
            pages: crate::version::PAGES.to_owned(),
        }
    }
}

/// A store's record of its versions, of an unfinished run, and of the deploys
/// waiting for their answer.
pub trait RenderLedger: Send + Sync {
    /// Posts (drafts and scheduled ones included) whose stored HTML was not made
    /// by `renderer`.
    fn stale(&self, renderer: &str) -> impl Future<Output = Result<Vec<Slug>, StoreError>> + Send;

    /// The versions recorded (`None` before the first run).
    fn site_versions(
        &self,
    ) -> impl Future<Output = Result<Option<SiteVersions>, StoreError>> + Send;

    /// Records `to` in place of `from` and queues `paths`, in one write that only
    /// lands while `from` is still what is recorded; returns the queued entry's id,
    /// or `None` when another run recorded first.
    fn record_versions(
        &self,
        from: Option<&SiteVersions>,
        to: &SiteVersions,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// The unfinished run, if one was recorded.
    fn job(&self) -> impl Future<Output = Result<Option<Job>, StoreError>> + Send;

    /// Records an unfinished run (the DynamoDB store's stream starts the next at
    /// once), or removes the record (`None`).
    fn set_job(&self, job: Option<&Job>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// CloudFormation requests not yet answered, as they were sent, oldest first.
    fn requests(&self) -> impl Future<Output = Result<Vec<serde_json::Value>, StoreError>> + Send;

    /// Keeps a request until it is answered (kept again: replaced).
    fn keep_request(
        &self,
        id: &str,
        event: &serde_json::Value,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets an answered request.
    fn drop_request(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An unfinished run, as recorded between invocations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The versions it brings the site to: only a build with these continues it,
    /// so code from before a deploy cannot turn the site back.
    pub target: SiteVersions,
    /// Posts still to re-render when it was recorded.
    pub left: usize,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Whether the site already matched this build (nothing was read but the versions).
    pub up_to_date: bool,
    /// Posts re-rendered.
    pub rerendered: Vec<Slug>,
    /// Posts another write changed first (they carry that write's HTML).
    pub raced: Vec<Slug>,
    /// Posts that could not be stored again, with why (they keep their old HTML).
    pub failed: Vec<(Slug, String)>,
    /// Posts left for the next run (time ran out).
    pub left: usize,
    /// The `/*` entry queued when the versions were recorded.
    pub invalidation: Option<String>,
}

impl Progress {
    /// Whether the run reached the end (the versions are recorded).
    pub fn finished(&self) -> bool {
        self.left == 0
    }
}

#[cfg(feature = "authoring")]
/// Brings the store up to this build: re-renders stale posts until `deadline`,
/// then records the versions and queues one `/*` if they changed. `force` checks
/// every post's stamp even when the versions recorded match this build's. The
/// outbox is held while posts are written, so their own paths and the `/*` leave
/// as one batch; a run cut short leaves the hold to expire (at most
/// [`crate::cdn::outbox::MAX_HOLD_SECONDS`]) or to the run that finishes.
pub async fn run<S>(
    store: &S,
    force: bool,
    deadline: Instant,
    now: DateTime<Utc>,
) -> Result<Progress, StoreError>
where
    S: PostWriter + Outbox + RenderLedger,
{
    let seen = store.site_versions().await?;
    let target = SiteVersions::current();
    if !force && seen.as_ref() == Some(&target) {
        return Ok(Progress {
            up_to_date: true,
            ..Progress::default()
        });
    }
    let stale = store.stale(&target.renderer).await?;
    let mut progress = Progress::default();
    if !stale.is_empty() {
        let hold = chrono::Duration::seconds(crate::cdn::outbox::MAX_HOLD_SECONDS);
        store.hold(Some(now + hold)).await?;
    }
    for (i, slug) in stale.iter().enumerate() {
        if Instant::now() >= deadline {
            progress.left = stale.len() - i;
            return Ok(progress);
        }
        if let Err(e) = rerender_one(store, slug, &target.renderer, &mut progress).await {
            // Whoever runs next holds it again; until then publishes go out.
            let _ = store.hold(None).await;
            return Err(e);
        }
    }
    if seen.as_ref() != Some(&target) {
        let paths = [crate::cdn::drain::EVERYTHING.to_owned()];
        progress.invalidation = store
            .record_versions(seen.as_ref(), &target, &paths, Utc::now())
            .await?;
    }
    // Released, not restored: a hold an import made meanwhile only means its
    // pages leave in more than one batch; one kept would delay these by minutes.
    if !stale.is_empty() {
        store.hold(None).await?;
    }
    Ok(progress)
}

#[cfg(feature = "authoring")]
/// Re-renders `slug` if it is still stale, conditional on the version just read.
async fn rerender_one<S: PostWriter>(
    store: &S,
    slug: &Slug,
    renderer: &str,
    progress: &mut Progress,
) -> Result<(), StoreError> {
    let stored = match store.current(slug).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return Ok(()),
        Err(e @ StoreError::Unavailable { .. }) => return Err(e),
        Err(e) => {
            progress.failed.push((slug.clone(), e.to_string()));
            return Ok(());
        }
    };
    if stored.post.renderer == renderer {
        return Ok(());
    }
    let post = crate::authoring::rerender(&stored.post);
    let source = crate::authoring::to_source(&post);
    match store
        .save(slug, post, &source, Expected::Version(stored.version))
        .await
    {
        Ok(_) => progress.rerendered.push(slug.clone()),
        Err(StoreError::Stale(_) | StoreError::Conflict(_)) => progress.raced.push(slug.clone()),
        Err(e @ StoreError::Unavailable { .. }) => return Err(e),
        Err(e) => {
            tracing::warn!(%slug, error = %e, "could not store the re-rendered post");
            progress.failed.push((slug.clone(), e.to_string()));
        }
    }
    Ok(())
}

/// Versions and job in memory: the filesystem store's, whose posts are rendered
/// when its files are read, so they are always this build's.
#[derive(Debug)]
pub struct MemoryLedger {
    state: std::sync::Mutex<Ledger>,
}

type Ledger = (
    Option<SiteVersions>,
    Option<Job>,
    Vec<(String, serde_json::Value)>,
);

impl Default for MemoryLedger {
    fn default() -> Self {
        Self {
            state: std::sync::Mutex::new((Some(SiteVersions::current()), None, Vec::new())),
        }
    }
}

impl MemoryLedger {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The versions recorded.
    pub fn versions(&self) -> Option<SiteVersions> {
        self.lock().0.clone()
    }

    /// Records `to` if `from` is what is recorded; returns whether it did.
    pub fn record(&self, from: Option<&SiteVersions>, to: &SiteVersions) -> bool {
        let mut state = self.lock();
        if state.0.as_ref() != from {
            return false;
        }
        state.0 = Some(to.clone());
        true
    }

    /// The unfinished run.
    pub fn job(&self) -> Option<Job> {
        self.lock().1.clone()
    }

    /// Records or removes the unfinished run.
    pub fn set_job(&self, job: Option<&Job>) {
        self.lock().1 = job.cloned();
    }

    /// Requests kept, oldest first.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.lock().2.iter().map(|(_, e)| e.clone()).collect()
    }

    /// Keeps (or replaces) a request.
    pub fn keep_request(&self, id: &str, event: &serde_json::Value) {
        let mut state = self.lock();
        state.2.retain(|(i, _)| i != id);
        state.2.push((id.to_owned(), event.clone()));
    }

    /// Forgets a request.
    pub fn drop_request(&self, id: &str) {
        self.lock().2.retain(|(i, _)| i != id);
    }
}
