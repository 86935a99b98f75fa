//! One `SdkConfig` per process and the clients derived from it. `AWS_ENDPOINT_URL`
//! (read by the SDK itself) points every client at an emulator; nothing here knows
//! about tests.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};

/// Amazon Trust Services' roots and the Starfield root that cross-signs them: every
/// AWS endpoint the blog calls chains to one. Trusting only these spares each cold
/// start from reading the ~150 system certificates (which the SDK's default client
/// does while the config loads), and narrows whom the functions trust.
pub(crate) const AMAZON_ROOTS: &[u8] = include_bytes!("amazon-roots.pem");

/// Loads region, credentials and endpoint from the environment, once.
pub async fn sdk_config() -> SdkConfig {
    loader().load().await
}

/// The Lambda functions' config: region and credentials from the environment only,
/// which is where Lambda puts them. The default chain, which would pick the same
/// environment credentials, first builds every other provider (profile, web
/// identity with an STS client and its endpoint rules, ECS, IMDS) at each cold start.
#[cfg(feature = "lambda")]
pub async fn lambda_sdk_config() -> SdkConfig {
    use aws_config::environment::{
        EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
    };
    loader()
        .region(EnvironmentVariableRegionProvider::new())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .timeout_config(timeouts())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await
}

/// The SDK's config loader with the HTTPS client every SDK client shares: rustls with
/// ring, trusting [`AMAZON_ROOTS`].
pub fn loader() -> aws_config::ConfigLoader {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    let trust = tls::TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_ROOTS);
    #[cfg(feature = "bench-tls")]
    let trust = match std::env::var_os("BLOG_BENCH_CA").map(std::fs::read) {
        Some(Ok(pem)) => trust.with_pem_certificate(pem),
        _ => trust,
    };
    let builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
    let http = match tls::TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Building a context only stores its inputs; keep the default one if that changes.
        Err(_) => builder.build_https(),
    };
    aws_config::defaults(BehaviorVersion::latest()).http_client(http)
}

// The functions' SDK deadlines (`lambda_sdk_config`). The CLI keeps the SDK's
// defaults: it also creates tables on a busy emulator, which can take longer than
// an attempt here may.

/// Attempts per SDK call (the first and two retries, with the SDK's jittered
/// backoff; throttling and 5xx answers are retried, condition failures are not).
pub const MAX_ATTEMPTS: u32 = 3;
/// Longest wait for a TCP connection and its TLS handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest one attempt may take, connection included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a whole SDK call may take, retries included. A stalled or failing
/// DynamoDB becomes a 503 with Retry-After within this, far inside the functions'
/// timeouts (read functions 10 s, publish 30 s; API Gateway waits up to 30 s), so
/// nothing waits for Lambda to kill the invocation and CloudFront can serve its
/// stale copy (`stale-if-error`) at once.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(feature = "lambda")]
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The DynamoDB client.
#[cfg(feature = "dynamo")]
pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// The S3 client. With an endpoint override (an emulator on an IP address)
/// virtual-hosted bucket names cannot resolve, so it uses path-style addressing.
#[cfg(feature = "s3")]
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

/// The CloudFront client (CloudFront's API lives in us-east-1 whatever the region).
#[cfg(feature = "cloudfront")]
pub fn cloudfront(config: &SdkConfig) -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(config)
}

/// The EventBridge Scheduler client.
#[cfg(feature = "scheduler")]
pub fn scheduler(config: &SdkConfig) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(config)
}

/// The SSM client (the publish token's parameter: `token_parameter`).
#[cfg(feature = "ssm")]
pub fn ssm(config: &SdkConfig) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(config)
}
