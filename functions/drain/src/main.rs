//! Lambda function draining the invalidation outbox into CloudFront (see
//! `blog_core::cdn`): woken by the table's stream, a sweep schedule and scheduled
//! posts.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let drainer = blog_core::lambda::drain_from_env().await?;
    blog_core::lambda::serve_drain(drainer).await
}
