//! A Lambda Runtime API on 127.0.0.1, enough to run a real `bootstrap`: it hands out
//! events on `/next`, collects `/response` and `/error` posts, and reports init
//! errors. One API per function process, as in Lambda.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, Mutex};

const PREFIX: &str = "/2018-06-01/runtime";

type Outcome = Result<serde_json::Value, String>;

struct Invocation {
    id: String,
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Clone)]
struct Shared {
    first_poll: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    queue: Arc<Mutex<mpsc::Receiver<Invocation>>>,
    pending: Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>,
    init_error: Arc<Mutex<Option<String>>>,
}

/// A running Runtime API with one function process polling it.
pub struct RuntimeApi {
    addr: SocketAddr,
    sender: mpsc::Sender<Invocation>,
    shared: Shared,
    next_id: std::sync::atomic::AtomicU64,
    child: Option<Child>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn next(State(s): State<Shared>) -> (HeaderMap, Bytes) {
    s.first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(std::time::Instant::now);
    let inv = s
        .queue
        .lock()
        .await
        .recv()
        .await
        .expect("runtime API closed");
    s.pending.lock().await.insert(inv.id.clone(), inv.reply);
    let mut h = HeaderMap::new();
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    h.insert("lambda-runtime-aws-request-id", inv.id.parse().unwrap());
    h.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    h.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:blog-test"
            .parse()
            .unwrap(),
    );
    h.insert(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0"
            .parse()
            .unwrap(),
    );
    h.insert("content-type", "application/json".parse().unwrap());
    (h, inv.event)
}

async fn respond(State(s): State<Shared>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    let outcome = serde_json::from_slice(&body).map_err(|e| format!("response is not JSON: {e}"));
    if let Some(tx) = s.pending.lock().await.remove(&id) {
        let _ = tx.send(outcome);
    }
    StatusCode::ACCEPTED
}

async fn fail(State(s): State<Shared>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    if let Some(tx) = s.pending.lock().await.remove(&id) {
        let _ = tx.send(Err(String::from_utf8_lossy(&body).into_owned()));
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Shared>, body: Bytes) -> StatusCode {
    *s.init_error.lock().await = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// The release `bootstrap` of function `f`, as `cargo lambda build --release` writes it.
pub fn bootstrap(f: blog_core::routes::Function) -> std::path::PathBuf {
    bootstrap_named(f.name())
}

/// The release `bootstrap` of `functions/<name>` (the drain answers no route).
pub fn bootstrap_named(name: &str) -> std::path::PathBuf {
    crate::workspace().join(format!("target/lambda/blog-{name}/bootstrap"))
}

/// Each of `functions`' release bootstraps behind a Runtime API of its own, with
/// `env`, by function name.
pub async fn start_functions(
    functions: &[blog_core::routes::Function],
    env: &[(String, String)],
) -> std::collections::HashMap<&'static str, RuntimeApi> {
    let mut apis = std::collections::HashMap::new();
    for f in functions {
        let mut api = RuntimeApi::start().await;
        api.spawn(&bootstrap(*f), &format!("blog-{}", f.name()), env);
        apis.insert(f.name(), api);
    }
    apis
}

impl RuntimeApi {
    /// Starts the API on a free loopback port.
    pub async fn start() -> Self {
        let (sender, receiver) = mpsc::channel(16);
        let shared = Shared {
            first_poll: Arc::default(),
            queue: Arc::new(Mutex::new(receiver)),
            pending: Arc::default(),
            init_error: Arc::default(),
        };
        let router = axum::Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(respond),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(fail))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let addr = crate::serve_loopback(router).await;
        Self {
            addr,
            sender,
            shared,
            next_id: 0.into(),
            child: None,
        }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Starts `bootstrap` against this API with the Lambda variables and `env`.
    pub fn spawn(&mut self, bootstrap: &Path, name: &str, env: &[(String, String)]) {
        self.spawn_logging(bootstrap, name, env, None);
    }

    /// As [`Self::spawn`], with everything the function prints (its logs) going
    /// to `log` when given, at info level, so a test can read what it logged.
    pub fn spawn_logging(
        &mut self,
        bootstrap: &Path,
        name: &str,
        env: &[(String, String)],
        log: Option<&Path>,
    ) {
        assert!(
            bootstrap.exists(),
            "{} is missing: build the functions with `cargo lambda build --release` (./scripts/test.sh does)",
            bootstrap.display()
        );
        let child = Command::new(bootstrap)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(match log {
                Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
                None => Stdio::null(),
            })
            .stderr(match log {
                Some(path) => {
                    Stdio::from(std::fs::OpenOptions::new().append(true).open(path).unwrap())
                }
                None => Stdio::inherit(),
            })
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bootstrap.display()));
        self.child = Some(child);
    }

    /// Sends one event and waits for the function's answer (or its error).
    pub async fn invoke(&self, event: &str) -> Outcome {
        let id = format!(
            "req-{}",
            self.next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let (reply, answer) = oneshot::channel();
        let inv = Invocation {
            id,
            event: Bytes::from(event.to_owned()),
            reply,
        };
        self.sender
            .send(inv)
            .await
            .map_err(|_| "runtime API stopped".to_owned())?;
        match tokio::time::timeout(Duration::from_secs(30), answer).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err("the function never answered".into()),
            Err(_) => {
                let init = self.shared.init_error.lock().await.clone();
                Err(format!("no answer within 30 s (init error: {init:?})"))
            }
        }
    }

    /// When the function first asked for work: the end of its init phase.
    pub fn first_poll(&self) -> Option<std::time::Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    /// The function's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts any command (a bootstrap script, say) against this API.
    pub fn spawn_command(&mut self, mut cmd: Command, name: &str, env: &[(String, String)]) {
        let child = cmd
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.child = Some(child);
    }

    /// The init error the function reported, if any.
    pub async fn init_error(&self) -> Option<String> {
        self.shared.init_error.lock().await.clone()
    }
}
