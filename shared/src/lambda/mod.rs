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
/// token from its parameter (`BLOG_TOKEN_PARAMETER`), read once and kept for the
/// life of the process.
#[cfg(feature = "lambda-publish")]
pub async fn publish_from_env() -> Result<(PublishApp, PublishFunction), Error> {
    let settings = Settings::from_env()?;
    let (table, bucket) = (settings.table()?, settings.bucket()?);
    let parameter = settings.token_parameter()?;
    let [group, target, role] = settings.schedules()?;
    let sdk = aws::lambda_sdk_config().await;
    let token = crate::token_parameter::read(&aws::ssm(&sdk), parameter).await?;
    let token = crate::auth::Token::new(&token)
        .map_err(|e| format!("the publish token in {parameter}: {e}"))?;
    let posts = DynamoPosts::new(aws::dynamodb(&sdk), table);
    let assets = crate::store::s3::S3Assets::new(aws::s3(&sdk), bucket);
    let schedules =
        crate::schedule::eventbridge::EventBridge::new(aws::scheduler(&sdk), group, target, role);
    let app = App::new(settings.site, posts, assets)?;
    Ok((app, crate::publish::Publisher { token, schedules }))
}

/// The publish function's API side: its token and the stack's schedules.
#[cfg(feature = "lambda-publish")]
pub type PublishFunction = crate::publish::Publisher<crate::schedule::eventbridge::EventBridge>;

/// Serves the publish API until the runtime stops the process.
#[cfg(feature = "lambda-publish")]
pub async fn serve_publish(app: PublishApp, publisher: PublishFunction) -> Result<(), Error> {
    let site: &'static (PublishApp, PublishFunction) = Box::leak(Box::new((app, publisher)));
    run(move |req| crate::publish::handle(&site.0, &site.1, req)).await
}

/// The drain function's outbox and CDN, and SSM for the publish token's resource.
#[cfg(feature = "lambda-drain")]
pub type Drainer = (
    DynamoPosts,
    crate::cdn::cloudfront::CloudFront,
    aws_sdk_ssm::Client,
);

/// The drain function's cold start: the table (`BLOG_TABLE`) and the
/// distribution (`BLOG_DISTRIBUTION_ID`).
#[cfg(feature = "lambda-drain")]
pub async fn drain_from_env() -> Result<Drainer, Error> {
    let settings = Settings::from_env()?;
    let table = settings.table()?;
    let distribution = settings.distribution()?;
    let sdk = aws::lambda_sdk_config().await;
    Ok((
        DynamoPosts::new(aws::dynamodb(&sdk), table),
        crate::cdn::cloudfront::CloudFront::new(aws::cloudfront(&sdk), distribution),
        aws::ssm(&sdk),
    ))
}

/// Sends a CloudFormation answer, trying a transient failure twice more (after 1 s
/// and 2 s): Lambda's own retry of a failed invocation would come a minute later,
/// and its last failure would land in the drain's failure queue. An answer that
/// never arrives leaves CloudFormation to time the resource out (its
/// `ServiceTimeout`) and roll back, which the author sees.
#[cfg(feature = "lambda-drain")]
async fn send_with_retries(
    request: &crate::rerender::cloudformation::Request,
    answer: &serde_json::Value,
) -> bool {
    for wait in [1, 2, 0] {
        match crate::rerender::cloudformation::send(request, answer).await {
            Ok(()) => return true,
            Err(e) if e.transient() && wait > 0 => {
                tracing::warn!(error = %e, "a CloudFormation answer failed; trying again");
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "a CloudFormation answer did not arrive");
                return false;
            }
        }
    }
    false
}

/// Time kept back from the function's deadline: the drain stops waiting for a busy
/// CDN this long before Lambda would stop it, so it can report.
#[cfg(feature = "lambda-drain")]
const DRAIN_MARGIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs [`crate::cdn::drain::on_event`] for every event, whatever its source (the
/// table's stream, the sweep schedule, a scheduled post's schedule, the deploy's
/// custom resource), then answers the CloudFormation requests now due. An error
/// (entries still pending) fails the invocation, so the stream retries the batch
/// and, after its last retry, records it in the on-failure queue, whose alarm
/// tells the author; the entries themselves stay queued for the next drain.
#[cfg(feature = "lambda-drain")]
pub async fn serve_drain(drainer: Drainer) -> Result<(), Error> {
    let drainer: &'static Drainer = Box::leak(Box::new(drainer));
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let left = event
                .context
                .deadline()
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            let budget = left
                .saturating_sub(DRAIN_MARGIN)
                .max(std::time::Duration::from_secs(1));
            let (store, cdn, ssm) = drainer;
            // The publish token's resource: answered at once, apart from the drain.
            if let Some(request) = crate::rerender::cloudformation::Request::of(&event.payload)
                .filter(crate::token_parameter::is_for_token)
            {
                let answer = crate::token_parameter::on_request(ssm, &request).await;
                let answered = send_with_retries(&request, &answer).await;
                return Ok(serde_json::json!({ "token": answer["Status"], "answered": answered }));
            }
            // Boxed, as the page routes are: inlined into the runtime's future it
            // overflows rustc's layout query depth.
            let woken = Box::pin(crate::cdn::drain::on_event(
                store,
                cdn,
                &event.payload,
                budget,
            ))
            .await?;
            let answered = Box::pin(crate::rerender::cloudformation::answer_due(
                store,
                &woken.rerender.due,
            ))
            .await;
            let done = woken.drained?;
            Ok::<_, Error>(serde_json::json!({
                "sent": done.sent,
                "left": done.left,
                "held": done.held,
                "rerender": woken.rerender.progress,
                "answered": answered,
            }))
        },
    ))
    .await
}
