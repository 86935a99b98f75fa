//! Lambda function serving the tags routes (see `blog_core::routes::Function::Tags`).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = blog_core::lambda::app_from_env().await?;
    blog_core::lambda::serve(app, blog_core::routes::Function::Tags).await
}
