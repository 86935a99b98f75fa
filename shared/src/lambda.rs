//! The lambda_http adapter, written once: every function's `main` builds the app
//! from the environment and hands it here with the routes it serves.

use std::convert::Infallible;

use bytes::Bytes;
use lambda_http::{Body, Error};

use crate::app::App;
use crate::aws::{self, AwsSettings};
use crate::config::Config;
use crate::routes::{self, Function};
use crate::store::dynamo::DynamoPosts;
use crate::store::{Assets, NoAssets, Posts};

/// The app as deployed: posts in DynamoDB; assets reach readers from S3 through
/// CloudFront, never through a function.
pub type AwsApp = App<DynamoPosts, NoAssets>;

/// Reads and validates settings, loads one `SdkConfig`, builds the clients and
/// parses the templates: everything a cold start does before the first request.
pub async fn app_from_env() -> Result<AwsApp, Error> {
    let config = Config::from_env()?;
    let table = AwsSettings::table_from_env()?;
    let sdk = aws::lambda_sdk_config().await;
    let posts = DynamoPosts::new(aws::dynamodb(&sdk), table);
    Ok(App::new(config, posts, NoAssets)?)
}

/// Serves `function`'s routes until the runtime stops the process.
pub async fn serve<P, A>(app: App<P, A>, function: Function) -> Result<(), Error>
where
    P: Posts + 'static,
    A: Assets + 'static,
{
    // One app for the life of the process; leaking it lets every invocation borrow it.
    let app: &'static App<P, A> = Box::leak(Box::new(app));
    lambda_http::run(lambda_http::service_fn(
        move |req: lambda_http::Request| async move {
            let res = routes::handle_function(app, function, to_core(req)).await;
            Ok::<_, Infallible>(to_lambda(res))
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
    let config = Config::from_env()?;
    let settings = AwsSettings::from_env()?;
    let secret_id = std::env::var("BLOG_TOKEN_SECRET").map_err(|_| {
        "BLOG_TOKEN_SECRET is not set: the SAM template sets it to the publish secret's name"
    })?;
    let sdk = aws::lambda_sdk_config().await;
    let secret = aws::publish_secret(&sdk, &secret_id).await?;
    let posts = DynamoPosts::new(aws::dynamodb(&sdk), settings.table);
    let assets = crate::store::s3::S3Assets::new(aws::s3(&sdk), settings.bucket);
    let cdn = crate::cdn::cloudfront::CloudFront::new(aws::cloudfront(&sdk), secret.distribution);
    let app = App::new(config, posts, assets)?;
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
    lambda_http::run(lambda_http::service_fn(
        move |req: lambda_http::Request| async move {
            let res = crate::publish::handle(&site.0, &site.1, to_core(req)).await;
            Ok::<_, Infallible>(to_lambda(res))
        },
    ))
    .await
}

/// lambda_http's request, with its body as bytes.
pub fn to_core(req: lambda_http::Request) -> crate::http::Request {
    let (parts, body) = req.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    http::Request::from_parts(parts, bytes)
}

/// Text bodies stay text in the API Gateway response; anything else goes base64.
pub fn to_lambda(res: crate::http::Response) -> lambda_http::Response<Body> {
    let (parts, body) = res.into_parts();
    let textual = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("text/")
                || t.contains("xml")
                || t.contains("json")
                || t.contains("charset=utf-8")
        });
    let body = if body.is_empty() {
        Body::Empty
    } else if textual {
        match String::from_utf8(body.to_vec()) {
            Ok(s) => Body::Text(s),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    } else {
        Body::Binary(body.to_vec())
    };
    lambda_http::Response::from_parts(parts, body)
}
