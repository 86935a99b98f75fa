//! Cache invalidation after a publish, behind a small trait: CloudFront when
//! deployed, a log line locally. A failed invalidation is retried, then reported;
//! it never undoes the write that asked for it.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

#[cfg(feature = "cloudfront")]
pub mod cloudfront;

/// Attempts per invalidation before it is reported as failed.
pub const ATTEMPTS: u32 = 3;

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
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CdnError(pub String);

/// What happened to a publish's invalidation, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invalidation {
    /// Exactly the paths the write changed.
    pub paths: Vec<String>,
    /// What came of it.
    pub status: InvalidationStatus,
    /// The CDN's id for the batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Requests made.
    pub attempts: u32,
    /// The last failure, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What came of an invalidation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InvalidationStatus {
    /// The CDN accepted the batch.
    Created,
    /// Every attempt failed: the pages stay stale until they expire.
    Failed,
    /// No public page changed: nothing was sent.
    None,
}

impl InvalidationStatus {
    /// The name the API reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Failed => "failed",
            Self::None => "none",
        }
    }
}

impl Invalidation {
    /// Nothing public changed: no request.
    pub fn none() -> Self {
        Self {
            paths: Vec::new(),
            status: InvalidationStatus::None,
            id: None,
            attempts: 0,
            error: None,
        }
    }
}

/// Invalidates `paths`, retrying with backoff; an empty list makes no request.
pub async fn invalidate<C: Cdn>(cdn: &C, paths: Vec<String>, reference: &str) -> Invalidation {
    let mut report = Invalidation {
        paths,
        ..Invalidation::none()
    };
    if report.paths.is_empty() {
        return report;
    }
    let mut delay = Duration::from_millis(200);
    while report.attempts < ATTEMPTS {
        report.attempts += 1;
        match cdn.invalidate(&report.paths, reference).await {
            Ok(id) => {
                tracing::info!(id = %id, paths = ?report.paths, "invalidated");
                report.status = InvalidationStatus::Created;
                report.id = Some(id);
                report.error = None;
                return report;
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt = report.attempts, "invalidation failed");
                report.error = Some(e.0);
                if report.attempts < ATTEMPTS {
                    tokio::time::sleep(delay).await;
                    delay *= 4;
                }
            }
        }
    }
    report.status = InvalidationStatus::Failed;
    report
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Flaky {
        failures: u32,
        calls: AtomicU32,
        references: std::sync::Mutex<Vec<String>>,
    }

    impl Cdn for Flaky {
        async fn invalidate(&self, _paths: &[String], reference: &str) -> Result<String, CdnError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            self.references
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(reference.to_owned());
            if n < self.failures {
                Err(CdnError(format!("throttled {n}")))
            } else {
                Ok("I1".into())
            }
        }
    }

    fn flaky(failures: u32) -> Flaky {
        Flaky {
            failures,
            calls: AtomicU32::new(0),
            references: std::sync::Mutex::default(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_with_one_reference_then_reports() {
        let cdn = flaky(2);
        let r = invalidate(&cdn, vec!["/".into()], "ref-1").await;
        assert_eq!(
            (r.status.as_str(), r.attempts, r.id.as_deref()),
            ("created", 3, Some("I1"))
        );
        assert_eq!(*cdn.references.lock().unwrap(), vec!["ref-1"; 3]);

        let cdn = flaky(5);
        let r = invalidate(&cdn, vec!["/".into()], "ref-2").await;
        assert_eq!((r.status.as_str(), r.attempts), ("failed", ATTEMPTS));
        assert_eq!(r.error.as_deref(), Some("throttled 2"));

        let cdn = flaky(0);
        let r = invalidate(&cdn, Vec::new(), "ref-3").await;
        assert_eq!((r.status.as_str(), r.attempts), ("none", 0));
        assert_eq!(cdn.calls.load(Ordering::SeqCst), 0);
    }
}
