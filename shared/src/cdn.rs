//! Cache invalidation, as a transactional outbox. Every write records the paths it
//! changed in the same transaction as the post ([`paths`], [`outbox`]); a drain
//! ([`drain`]) later coalesces everything pending into one batch for the CDN,
//! retries until the CDN takes it, and only then clears the entries. A failed or
//! throttled invalidation is never lost: its entry stays until one is accepted.

use std::future::Future;

use serde::Serialize;

#[cfg(feature = "cloudfront")]
pub mod cloudfront;
pub mod drain;
pub mod outbox;
pub mod paths;

/// Something that can drop paths from a CDN's caches.
pub trait Cdn: Send + Sync {
    /// Invalidates `paths` as one batch. `reference` is the same for every retry of
    /// one batch, so a retry of a request that did arrive creates nothing new.
    /// Returns the CDN's id for the batch.
    fn invalidate(
        &self,
        paths: &[String],
        reference: &str,
    ) -> impl Future<Output = Result<String, CdnError>> + Send;
}

/// Why an invalidation failed (shown to the author: never contains a secret).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CdnError {
    /// What the CDN said.
    pub message: String,
    /// Whether trying again later can succeed: a quota of invalidations in
    /// progress, throttling, a timeout or a server error. Refusals (a missing
    /// distribution, no permission, a malformed path) are not.
    pub retryable: bool,
}

impl CdnError {
    /// A failure that a later attempt may not repeat.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }

    /// A refusal that will repeat.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}

/// What a write did about the CDN, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invalidation {
    /// Exactly the paths the write changed.
    pub paths: Vec<String>,
    /// What came of it.
    pub status: InvalidationStatus,
    /// The outbox entry holding the paths until the CDN accepts them
    /// (`GET /api/invalidations` shows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// What came of a write's invalidation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InvalidationStatus {
    /// Recorded with the write; the drain sends it.
    Queued,
    /// No public page changed: nothing to send.
    None,
}

impl InvalidationStatus {
    /// The name the API reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::None => "none",
        }
    }
}

impl Invalidation {
    /// Nothing public changed.
    pub fn none() -> Self {
        Self {
            paths: Vec::new(),
            status: InvalidationStatus::None,
            id: None,
        }
    }

    /// The invalidation a write queued (or none, when it changed nothing public).
    pub fn of(written: &crate::store::Written) -> Self {
        match &written.queued {
            Some(id) if !written.paths.is_empty() => Self {
                paths: written.paths.clone(),
                status: InvalidationStatus::Queued,
                id: Some(id.clone()),
            },
            _ => Self::none(),
        }
    }
}

/// The local server's CDN: there is no cache to clear, so it logs the batch it
/// would have sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogCdn;

impl Cdn for LogCdn {
    async fn invalidate(&self, paths: &[String], reference: &str) -> Result<String, CdnError> {
        tracing::info!(paths = ?paths, "would invalidate (local server: no CDN)");
        Ok(format!("local-{reference}"))
    }
}
