//! Who runs the re-render, and when the deploy waiting for it is answered. The
//! drain function calls [`wake`] on every invocation:
//!
//! - A CloudFormation `Create` or `Update` (a deploy) is kept in the store first,
//!   then starts a run to this build's versions. Only a deploy starts one: the
//!   sweep and the stream merely continue a recorded run whose target is their
//!   own build, so code from before a deploy (a retried event, an invocation in
//!   flight) never turns the site back.
//! - A run cut short records itself ([`Job`]); that write wakes the next
//!   invocation through the table's stream, and the 15-minute sweep is the
//!   backstop.
//! - When a run ends, every kept request is due: SUCCESS, or FAILED with why if
//!   the run cannot go on (stored data it cannot read). A `Delete` is due at once.
//!   The sweep also answers kept requests whose run ended without answering (a
//!   crash, an answer that did not get through), once the site is at its build's
//!   versions.

use std::time::Instant;

use chrono::Utc;

use super::cloudformation::{Request, RequestType, TOKEN_RESOURCE_TYPE};
use super::{run, Job, Progress, RenderLedger, SiteVersions};
use crate::cdn::drain::EVERYTHING;
use crate::cdn::outbox::Outbox;
use crate::error::StoreError;
use crate::store::PostWriter;

/// What one wake did.
#[derive(Debug, Default)]
pub struct Wake {
    /// The run's progress, if one ran.
    pub progress: Option<Progress>,
    /// Kept CloudFormation requests now due, each with its outcome.
    pub due: Vec<(serde_json::Value, Result<Progress, String>)>,
}

/// Runs or continues the re-render as `event` calls for, until `deadline`.
pub async fn wake<S>(
    store: &S,
    event: &serde_json::Value,
    deadline: Instant,
) -> Result<Wake, StoreError>
where
    S: PostWriter + Outbox + RenderLedger,
{
    let own = SiteVersions::current();
    // The publish token's requests are answered apart (`token_parameter`).
    let request = Request::of(event).filter(|r| r.resource_type != TOKEN_RESOURCE_TYPE);
    if let Some(r) = &request {
        store.keep_request(&r.request_id, event).await?;
    }
    let deploy = request
        .as_ref()
        .filter(|r| r.request_type != RequestType::Delete);
    let job = store.job().await?;
    let continues = job.as_ref().is_some_and(|j| j.target == own);
    let mut wake = Wake::default();
    let ended = if deploy.is_some() || continues {
        let outcome = match run(store, false, deadline, Utc::now()).await {
            Ok(progress) if !progress.finished() => {
                store
                    .set_job(Some(&Job {
                        target: own.clone(),
                        left: progress.left,
                        at: Utc::now(),
                    }))
                    .await?;
                wake.progress = Some(progress);
                None
            }
            Ok(mut progress) => {
                if deploy.is_some_and(Request::settings_changed) && progress.invalidation.is_none()
                {
                    let paths = [EVERYTHING.to_owned()];
                    progress.invalidation = store.queue(&paths, Utc::now()).await?;
                }
                Some(Ok(progress))
            }
            // Try again later: the request stays kept, the job (if any) too.
            Err(e @ StoreError::Unavailable { .. }) => return Err(e),
            Err(e) => Some(Err(format!("the re-render cannot go on: {e}"))),
        };
        if let Some(outcome) = &outcome {
            if job.is_some() {
                store.set_job(None).await?;
            }
            if let Ok(progress) = outcome {
                wake.progress = Some(progress.clone());
            }
        }
        outcome
    } else if job.is_none() && (request.is_some() || event["source"] == "aws.events") {
        // Nothing under way: requests still kept are answered once the site is at
        // this build (their run ended, the answer did not get through).
        (store.site_versions().await?.as_ref() == Some(&own)).then(|| {
            Ok(Progress {
                up_to_date: true,
                ..Progress::default()
            })
        })
    } else {
        None
    };
    if ended.is_some() || request.is_some() {
        for kept in store.requests().await? {
            let Some(r) = Request::of(&kept) else {
                continue;
            };
            if r.request_type == RequestType::Delete {
                // Removing the resource leaves the posts as they are.
                let nothing = Progress {
                    up_to_date: true,
                    ..Progress::default()
                };
                wake.due.push((kept, Ok(nothing)));
            } else if let Some(outcome) = &ended {
                wake.due.push((kept, outcome.clone()));
            }
        }
    }
    Ok(wake)
}
