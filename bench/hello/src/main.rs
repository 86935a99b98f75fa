//! A minimal `lambda_http` function: the cold-start floor the blog's functions are
//! compared with.

use lambda_http::{service_fn, Body, Error, Request, Response};

// Lambda sends one event at a time to a sandbox: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
