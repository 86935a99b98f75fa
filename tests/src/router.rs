//! One endpoint for two emulators: a loopback proxy that sends DynamoDB requests
//! (`X-Amz-Target: DynamoDB_20120810.*`) to one upstream and everything else to
//! another. It runs on a thread of its own for the life of the test binary, as
//! the servers behind it do, whatever test's runtime asked first.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[derive(Clone)]
struct Upstreams {
    other: String,
    dynamodb: String,
    client: Client<HttpConnector, Body>,
}

/// Sends `req` to `upstream` unchanged (the emulators do not check signatures
/// against the host), or answers 502 saying why it could not.
pub async fn forward(
    client: &Client<HttpConnector, Body>,
    upstream: &str,
    req: Request,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    parts.uri = format!("{upstream}{path}").parse().unwrap();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return bad_gateway(&e.to_string()),
    };
    match client
        .request(http::Request::from_parts(parts, Body::from(bytes)))
        .await
    {
        Ok(res) => res.map(Body::new),
        Err(e) => bad_gateway(&format!("{upstream}: {e}")),
    }
}

fn bad_gateway(why: &str) -> Response {
    Response::builder()
        .status(502)
        .body(Body::from(why.to_owned()))
        .unwrap()
}

async fn route(State(u): State<Upstreams>, req: Request) -> Response {
    let dynamodb = req
        .headers()
        .get("x-amz-target")
        .is_some_and(|t| t.as_bytes().starts_with(b"DynamoDB_20120810."));
    let upstream = if dynamodb { &u.dynamodb } else { &u.other };
    forward(&u.client, upstream, req).await
}

/// Starts the router; returns its endpoint.
pub fn start(other: String, dynamodb: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("emulator-router".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let upstreams = Upstreams {
                    other: other.trim_end_matches('/').to_owned(),
                    dynamodb: dynamodb.trim_end_matches('/').to_owned(),
                    client: Client::builder(TokioExecutor::new()).build_http(),
                };
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(route).with_state(upstreams);
                axum::serve(listener, app).await.unwrap();
            });
        })
        .unwrap();
    format!("http://{addr}")
}
