//! `/api/rerender`: which renderer made the stored posts, and a run on demand
//! (`blog rerender`). A deploy runs it by itself (`crate::rerender`); this is for
//! the author to see that it did, or to finish it now.

use std::time::{Duration, Instant};

use chrono::Utc;
use http::StatusCode;
use serde::Serialize;

use super::{to_json, Answer};
use crate::app::App;
use crate::cdn::outbox::Outbox;
use crate::error::AppError;
use crate::post::Slug;
use crate::rerender::{self, Job, Progress, RenderLedger, SiteVersions};
use crate::store::PostWriter;

/// Time one `POST` may spend re-rendering: API Gateway answers within 30 s, and
/// the rest is left to the next request (`202` says so).
const BUDGET: Duration = Duration::from_secs(20);

/// `GET /api/rerender`.
#[derive(Debug, Serialize)]
struct Status {
    /// The versions this build (the function answering) renders with.
    build: SiteVersions,
    /// The versions the site records (`null` before the first run).
    site: Option<SiteVersions>,
    /// Posts whose HTML an older renderer made.
    stale: Vec<Slug>,
    /// An unfinished run (`null` when none).
    job: Option<Job>,
    /// CloudFormation requests waiting for their answer.
    waiting_deploys: usize,
}

/// `GET /api/rerender`.
pub async fn show<P: RenderLedger, A>(app: &App<P, A>) -> Result<Answer, AppError> {
    let build = SiteVersions::current();
    Ok(Answer::ok(&Status {
        stale: app.posts.stale(&build.renderer).await?,
        site: app.posts.site_versions().await?,
        job: app.posts.job().await?,
        // Counted, not shown: they carry pre-signed URLs.
        waiting_deploys: app.posts.requests().await?.len(),
        build,
    }))
}

/// `POST /api/rerender`: re-renders every post an older renderer made (even when
/// the versions recorded match this build's) for up to [`BUDGET`]; `200` when the
/// site is done, `202` with `left` when another request should continue.
pub async fn run<P, A>(app: &App<P, A>) -> Result<Answer, AppError>
where
    P: PostWriter + Outbox + RenderLedger,
{
    let progress: Progress =
        rerender::run(&*app.posts, true, Instant::now() + BUDGET, Utc::now()).await?;
    let status = if progress.finished() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok(Answer {
        status,
        body: to_json(&progress),
        etag: None,
        location: None,
    })
}
