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
    let sdk = aws::sdk_config().await;
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
