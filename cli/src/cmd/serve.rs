//! `blog serve`: the same routes the Lambda functions run, on 127.0.0.1, over the
//! filesystem store (edits show on the next request) or over DynamoDB and S3.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use axum::body::Body;
use axum::extract::State;
use blog_core::auth::Token;
use blog_core::aws;
use blog_core::cdn::cloudfront::CloudFront;
use blog_core::cdn::drain::drain;
use blog_core::cdn::outbox::Outbox;
use blog_core::cdn::{Cdn, CdnError, LogCdn};
use blog_core::page_cache::PageCache;
use blog_core::publish::{self, Publisher};
use blog_core::rerender::RenderLedger;
use blog_core::settings::Settings;
use blog_core::store::dynamo::DynamoPosts;
use blog_core::store::fs::FsStore;
use blog_core::store::s3::S3Assets;
use blog_core::store::{AssetWriter, Assets, PostWriter, Posts};
use blog_core::{App, Config};
use tokio::net::TcpListener;

use crate::cli::{ServeArgs, Store};

mod seed;

/// Largest request body read: an image for the publish API, with room to spare.
const MAX_BODY: usize = publish::assets::MAX_ASSET_BYTES + 64 * 1024;

/// The site and its publish API.
struct Site<P, A> {
    app: App<P, A>,
    publisher: Publisher,
    pages: PageCache,
}

/// How often the local server drains its outbox (the deployed stack's stream wakes
/// its drain function within its batching window).
const DRAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts the server and runs until Ctrl-C.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{} (is another server using it? try --port)",
                args.port
            )
        })?;
    let addr = listener.local_addr()?;
    let settings = Settings::from_lookup(load_config(&args, addr)?, |k| match k {
        "BLOG_TABLE" => args.table.clone(),
        "BLOG_BUCKET" => args.bucket.clone(),
        _ => std::env::var(k).ok(),
    })?;
    let token = publish_token(&settings)?;
    let mut cdn = LocalCdn::Log(LogCdn);
    match args.store {
        Store::Fs => {
            let store = FsStore::open_in(&args.content, settings.site.zone()).with_context(|| {
                format!(
                    "cannot open the content folder {} (run from the project folder, or pass --content DIR)",
                    args.content.display()
                )
            })?;
            let errors = store.errors()?;
            println!(
                "Serving {} at http://{addr}/ (Ctrl-C to stop)",
                args.content.display()
            );
            if !errors.is_empty() {
                println!(
                    "{} file(s) skipped; fix them and they appear on the next request:",
                    errors.len()
                );
                for e in &errors {
                    println!("  {e}");
                }
            }
            run_server(
                listener,
                App::one_store(settings.site, store)?,
                token,
                cdn,
                args.open,
            )
            .await
        }
        Store::Dynamo => {
            let needs = "--store dynamo needs --table and --bucket (or BLOG_TABLE and BLOG_BUCKET)";
            let table = settings.table().context(needs)?;
            let bucket = settings.bucket().context(needs)?;
            let sdk = aws::sdk_config().await;
            if let Some(id) = &args.distribution {
                cdn = LocalCdn::CloudFront(CloudFront::new(aws::cloudfront(&sdk), id));
            }
            let posts = DynamoPosts::new(aws::dynamodb(&sdk), table);
            let assets = S3Assets::new(aws::s3(&sdk), bucket);
            if let Some(dir) = &args.seed {
                if sdk.endpoint_url().is_none() {
                    bail!("--seed writes into the table and bucket; it only runs against an emulator (set AWS_ENDPOINT_URL)");
                }
                seed::seed(
                    &sdk,
                    (table, bucket),
                    &posts,
                    &assets,
                    dir,
                    settings.site.zone(),
                )
                .await?;
            }
            println!(
                "Serving table {table} and bucket {bucket} at http://{addr}/ (Ctrl-C to stop)"
            );
            run_server(
                listener,
                App::new(settings.site.clone(), posts, assets)?,
                token,
                cdn,
                args.open,
            )
            .await
        }
    }
}

/// The token the publish API takes: `BLOG_TOKEN`, or a fresh one (then `true`:
/// shown to the author once, the only place a token is ever printed).
fn publish_token(settings: &Settings) -> anyhow::Result<(Token, bool)> {
    match settings.token() {
        Some(token) => Ok((token.clone(), false)),
        None => Ok((
            Token::generate().context("generating a publish token")?,
            true,
        )),
    }
}

/// Where a local server's drain sends invalidations: the log, or a real
/// distribution (`--distribution`, e.g. on an emulator).
enum LocalCdn {
    Log(LogCdn),
    CloudFront(CloudFront),
}

impl Cdn for LocalCdn {
    async fn invalidate(&self, paths: &[String], reference: &str) -> Result<String, CdnError> {
        match self {
            LocalCdn::Log(c) => c.invalidate(paths, reference).await,
            LocalCdn::CloudFront(c) => c.invalidate(paths, reference).await,
        }
    }
}

async fn run_server<P, A>(
    listener: TcpListener,
    app: App<P, A>,
    (token, generated): (Token, bool),
    cdn: LocalCdn,
    open: bool,
) -> anyhow::Result<()>
where
    P: Posts + PostWriter + Outbox + RenderLedger + 'static,
    A: Assets + AssetWriter + 'static,
{
    // A long-running server can afford to parse every template now, so a broken one
    // fails the start rather than a request.
    app.templates.parse_all()?;
    // The drain the deployed stack runs as a function, as a task here: it sends
    // what the writes queued (to the log, without --distribution). Unlike the
    // function it does not bring a table to this build's renderer: a laptop's
    // build differs from the deployed one, and the two would re-render the posts
    // back and forth (`blog rerender` does it when asked).
    let outbox = app.posts.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(DRAIN_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = drain(&*outbox, &cdn, std::time::Duration::from_secs(30)).await {
                tracing::warn!(error = %e, "invalidations still queued");
            }
        }
    });
    if generated {
        // To the terminal only; a closed stdout must not stop the server.
        let _ = writeln!(
            std::io::stdout(),
            "Publish API token for this run: {} (set BLOG_TOKEN to choose one)",
            token.reveal()
        );
    }
    if open {
        open_browser(&format!("http://{}/", listener.local_addr()?));
    }
    let router = axum::Router::new()
        .fallback(handle::<P, A>)
        .with_state(Arc::new(Site {
            app,
            publisher: Publisher {
                token,
                schedules: blog_core::schedule::NoSchedules,
            },
            pages: PageCache::new(),
        }));
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server stopped")
}

/// Settings: a local base URL and always-revalidate browser caching unless the
/// author set them, so the preview shows edits on reload.
fn load_config(args: &ServeArgs, addr: SocketAddr) -> anyhow::Result<Config> {
    let file = match std::fs::read_to_string(&args.config) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", args.config.display())),
    };
    let defaults = Config {
        base_url: format!("http://{addr}"),
        browser_max_age: 0,
        ..Config::default()
    };
    Config::load(defaults, file.as_deref(), |k| std::env::var(k).ok()).with_context(|| {
        format!(
            "invalid settings in {} or the environment",
            args.config.display()
        )
    })
}

async fn handle<P, A>(
    State(site): State<Arc<Site<P, A>>>,
    req: axum::extract::Request,
) -> axum::response::Response
where
    P: Posts + PostWriter + Outbox + RenderLedger,
    A: Assets + AssetWriter,
{
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let err = blog_core::error::AppError::TooLarge(format!(
                "the request body is over the {MAX_BODY}-byte limit"
            ));
            return publish::error_response(parts.uri.path(), &err).map(Body::from);
        }
    };
    let req = http::Request::from_parts(parts, body);
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let res = if blog_core::routes::is_api(&path) {
        publish::handle(&site.app, &site.publisher, req).await
    } else {
        site.pages.handle(&site.app, req).await
    };
    tracing::info!(%method, %path, status = res.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    res.map(Body::from)
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener).arg(url).spawn() {
        eprintln!("could not open a browser ({opener}: {e}); visit {url}");
    }
}
