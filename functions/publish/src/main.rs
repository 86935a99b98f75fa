//! Lambda function serving the publish API under `/api/` (see `blog_core::publish`).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let (app, publisher) = blog_core::lambda::publish_from_env().await?;
    blog_core::lambda::serve_publish(app, publisher).await
}
