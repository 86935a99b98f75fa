//! Support for the end-to-end tests: DynamoDB Local and moto's server on loopback,
//! a Lambda Runtime API, a counting proxy, stand-ins that enforce the documented
//! limits the emulators do not (CloudFront's invalidation quota, API Gateway's
//! throttling), and fixtures seeded into each store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is a failure report

pub mod cloudfront;
pub mod cpu_share;
pub mod deployment;
pub mod dynamodb_local;
pub mod events;
pub mod fixtures;
pub mod moto;
pub mod proxy;
pub mod router;
pub mod runtime_api;
pub mod serve;
pub mod stack;
pub mod throttle;
pub mod tls_proxy;

pub use blog_test_support::api;
pub use blog_test_support::content::workspace;

/// A name no other test in this run uses (tables and buckets share one moto).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Serves `app` on a free loopback port for the rest of the test's runtime;
/// returns the address.
pub async fn serve_loopback(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}
