//! The Lambda adapter, written once: every function's `main` builds the app from
//! the environment and hands it here with the routes it serves. Events become
//! requests in `apigw`. The mains run tokio's `current_thread` runtime: Lambda
//! sends a sandbox one event at a time, so a worker pool would only cost start-up.

pub mod apigw;

use std::convert::Infallible;

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::{Error, LambdaEvent};

use crate::app::App;
use crate::aws;
use crate::routes::{self, Function};
use crate::settings::Settings;
use crate::store::dynamo::DynamoPosts;
use crate::store::{Assets, NoAssets, Posts};

/// The app as deployed: posts in DynamoDB; assets reach readers from S3 through
/// CloudFront, never through a function.
pub type AwsApp = App<DynamoPosts, NoAssets>;

/// Reads and validates settings, loads one `SdkConfig`, builds the clients and
/// parses the templates: everything a cold start does before the first request.
pub async fn app_from_env() -> Result<AwsApp, Error> {
    let settings = Settings::from_env()?;
    let table = settings.table()?;
    let sdk = aws::lambda_sdk_config().await;
    let posts = DynamoPosts::new(aws::dynamodb(&sdk), table);
    Ok(App::new(settings.site, posts, NoAssets)?)
}

/// Serves `function`'s routes until the runtime stops the process.
pub async fn serve<P, A>(app: App<P, A>, function: Function) -> Result<(), Error>
where
    P: Posts + 'static,
    A: Assets + 'static,
{
    // One app for the life of the process; leaking it lets every invocation borrow it.
    let app: &'static App<P, A> = Box::leak(Box::new(app));
    run(move |req| routes::handle(app, Some(function), req)).await
}

/// Runs the Lambda runtime loop: each API Gateway event becomes a request for
/// `handler`, and its response the event API Gateway answers with.
async fn run<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(crate::http::Request) -> Fut,
    Fut: std::future::Future<Output = crate::http::Response>,
{
    let handler = &handler;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            let res: ApiGatewayV2httpResponse = match apigw::request(event.payload) {
                // Boxed: the route futures are deep, and inlined into the
                // runtime's own future they overflow rustc's layout query depth.
                Ok(req) => apigw::response(Box::pin(handler(req)).await),
                Err(why) => {
                    tracing::warn!(%why, "unusable API Gateway event");
                    apigw::bad_event(&why)
                }
            };
            Ok::<_, Infallible>(res)
        },
    ))
    .await
}

/// The publish function's app: posts in DynamoDB, assets in S3.
#[cfg(feature = "lambda-publish")]
pub type PublishApp = App<DynamoPosts, crate::store::s3::S3Assets>;

/// The publish function's cold start: settings, clients, templates, and the
/// secret (`BLOG_TOKEN_SECRET`: JSON with the token and the distribution id), read
/// once and kept for the life of the process.
#[cfg(feature = "lambda-publish")]
pub async fn publish_from_env() -> Result<
    (
        PublishApp,
        crate::publish::Publisher<crate::cdn::cloudfront::CloudFront>,
    ),
    Error,
> {
    let settings = Settings::from_env()?;
    let (table, bucket) = (settings.table()?, settings.bucket()?);
    let secret_id = settings.token_secret()?;
    let sdk = aws::lambda_sdk_config().await;
    let secret = aws::publish_secret(&sdk, secret_id).await?;
    let posts = DynamoPosts::new(aws::dynamodb(&sdk), table);
    let assets = crate::store::s3::S3Assets::new(aws::s3(&sdk), bucket);
    let cdn = crate::cdn::cloudfront::CloudFront::new(aws::cloudfront(&sdk), secret.distribution);
    let app = App::new(settings.site, posts, assets)?;
    Ok((
        app,
        crate::publish::Publisher {
            token: secret.token,
            cdn,
        },
    ))
}

/// Serves the publish API until the runtime stops the process.
#[cfg(feature = "lambda-publish")]
pub async fn serve_publish<C: crate::cdn::Cdn + 'static>(
    app: PublishApp,
    publisher: crate::publish::Publisher<C>,
) -> Result<(), Error> {
    let site: &'static (PublishApp, crate::publish::Publisher<C>) =
        Box::leak(Box::new((app, publisher)));
    run(move |req| crate::publish::handle(&site.0, &site.1, req)).await
}
