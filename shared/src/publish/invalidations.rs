//! `/api/invalidations`: what the outbox holds, and the hold a bulk import puts on
//! it so a whole run ends in one batch.

use chrono::{Duration, Utc};
use serde::Serialize;

use super::Answer;
use crate::app::App;
use crate::cdn::drain;
use crate::cdn::outbox::{Outbox, OutboxState, MAX_HOLD_SECONDS};
use crate::error::AppError;
use crate::http::Request;
use crate::urls::query_param;

/// `GET /api/invalidations`.
#[derive(Debug, Serialize)]
struct Status {
    #[serde(flatten)]
    state: OutboxState,
    /// Whether the drain is waiting for the hold to end.
    held: bool,
    /// The batch the pending entries would make now.
    next_batch: Vec<String>,
}

/// `GET /api/invalidations`.
pub async fn show<P: Outbox, A>(app: &App<P, A>) -> Result<Answer, AppError> {
    let state = app.posts.outbox().await?;
    Ok(Answer::ok(&Status {
        held: state.held(Utc::now()),
        next_batch: drain::batch(&state.pending),
        state,
    }))
}

/// `POST /api/invalidations/hold?seconds=N`: the drain waits until then (at most
/// [`MAX_HOLD_SECONDS`], the default), so a crashed import cannot hold it longer.
pub async fn hold<P: Outbox, A>(app: &App<P, A>, req: &Request) -> Result<Answer, AppError> {
    let seconds = match query_param(req.uri().query(), "seconds") {
        None => MAX_HOLD_SECONDS,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| (1..=MAX_HOLD_SECONDS).contains(s))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "seconds must be a whole number from 1 to {MAX_HOLD_SECONDS}, got \"{v}\""
                ))
            })?,
    };
    let until = Utc::now() + Duration::seconds(seconds);
    app.posts.hold(Some(until)).await?;
    Ok(Answer::ok(&serde_json::json!({ "held_until": until })))
}

/// `DELETE /api/invalidations/hold`: the drain runs with everything queued.
pub async fn release<P: Outbox, A>(app: &App<P, A>) -> Result<Answer, AppError> {
    app.posts.hold(None).await?;
    Ok(Answer::ok(&serde_json::json!({ "held_until": null })))
}
