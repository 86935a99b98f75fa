//! CloudFront `CreateInvalidation` on the site's own distribution.

use aws_sdk_cloudfront::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfront::operation::create_invalidation::CreateInvalidationError;
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use aws_sdk_cloudfront::Client;

use super::{Cdn, CdnError};

/// One distribution.
#[derive(Debug, Clone)]
pub struct CloudFront {
    client: Client,
    distribution: String,
}

impl CloudFront {
    /// Invalidations go to `distribution` only (the function's IAM policy allows no other).
    pub fn new(client: Client, distribution: impl Into<String>) -> Self {
        Self {
            client,
            distribution: distribution.into(),
        }
    }
}

impl Cdn for CloudFront {
    async fn invalidate(&self, paths: &[String], reference: &str) -> Result<String, CdnError> {
        let items = Paths::builder()
            .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
            .set_items(Some(paths.to_vec()))
            .build()
            .map_err(|e| CdnError::permanent(e.to_string()))?;
        let batch = InvalidationBatch::builder()
            .paths(items)
            .caller_reference(reference)
            .build()
            .map_err(|e| CdnError::permanent(e.to_string()))?;
        let out = self
            .client
            .create_invalidation()
            .distribution_id(&self.distribution)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(classify)?;
        // An answer without an id cannot be recorded: try again (the same caller
        // reference gets the same invalidation).
        out.invalidation
            .map(|i| i.id)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| CdnError::transient("CloudFront answered without an invalidation id"))
    }
}

/// Which failures a later attempt can get past: the quota of invalidations in
/// progress, throttling, server errors, and requests that never got an answer.
fn classify(err: SdkError<CreateInvalidationError>) -> CdnError {
    let retryable = match &err {
        SdkError::ServiceError(e) => {
            e.err().is_too_many_invalidations_in_progress()
                || matches!(
                    e.err().code(),
                    Some("Throttling" | "ThrottlingException" | "ServiceUnavailable")
                )
                || e.raw().status().is_server_error()
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => false,
    };
    let message = DisplayErrorContext(err).to_string();
    CdnError { message, retryable }
}
