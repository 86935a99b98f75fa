//! The AWS emulators on 127.0.0.1 behind one endpoint: DynamoDB requests go to
//! DynamoDB Local (AWS's own emulator, stricter than moto: isolated transactions),
//! everything else (S3, CloudFront, SSM, Scheduler) to moto's server.
//! `BLOG_TEST_DYNAMODB=moto` sends DynamoDB to moto as well.
//!
//! The test command starts both servers and exports `MOTO_ENDPOINT` and
//! `DYNAMODB_LOCAL_ENDPOINT`; without them, the first test to ask starts them on
//! free ports. Either way a missing server fails the test with what to run, never
//! skips it.

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The endpoint every test and function uses: a router on loopback in front of
/// DynamoDB Local and moto.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let moto = moto_endpoint().to_owned();
        let dynamodb = match std::env::var("BLOG_TEST_DYNAMODB").as_deref() {
            Ok("moto") => moto.clone(),
            _ => crate::dynamodb_local::endpoint().to_owned(),
        };
        crate::router::start(moto, dynamodb)
    })
}

/// Where moto itself listens, e.g. `http://127.0.0.1:5055`.
pub fn moto_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var("MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => {
            wait_ready(&e, None);
            e
        }
        _ => start(),
    })
}

fn moto_binary() -> PathBuf {
    if let Ok(bin) = std::env::var("MOTO_SERVER") {
        return bin.into();
    }
    let bin = crate::workspace().join(".tools/venv/bin/moto_server");
    assert!(
        bin.exists(),
        "moto's server is not installed at {}: run ./scripts/test.sh once (it installs it), \
         or set MOTO_SERVER or MOTO_ENDPOINT",
        bin.display()
    );
    bin
}

/// A free port on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `command` (a shell command line, output to `log`) under a shell that kills
/// it when this process's end of the pipe closes, so no server outlives the test
/// binary, even after a panic. Keep the returned child alive as long as the server.
pub(crate) fn spawn_tied(command: &str, log: &std::path::Path, what: &str) -> Child {
    let script = format!(
        "{command} >'{}' 2>&1 & pid=$!; cat >/dev/null; kill $pid",
        log.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start sh for {what}: {e}"))
}

/// Starts moto on a free port, tied to this process.
fn start() -> String {
    let port = free_port();
    let bin = moto_binary();
    let log = crate::workspace().join(format!("target/moto-{port}.log"));
    let child = spawn_tied(
        &format!("'{}' -H 127.0.0.1 -p {port}", bin.display()),
        &log,
        "moto",
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_ready(&endpoint, Some(child));
    endpoint
}

fn wait_ready(endpoint: &str, child: Option<Child>) {
    let addr = endpoint.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
            use std::io::Write;
            let _ = stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: x\r\n\r\n");
            let mut head = [0u8; 12];
            if stream.read_exact(&mut head).is_ok()
                && head.starts_with(b"HTTP/1.")
                && &head[9..12] == b"200"
            {
                // Keep the pipe (and so moto) alive for the whole test binary.
                std::mem::forget(child);
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "moto did not answer at {endpoint} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An `SdkConfig` for moto: dummy credentials, us-east-1, the given endpoint.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    blog_core::aws::loader()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .load()
        .await
}

/// The environment a process needs to reach moto at `endpoint`.
pub fn env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A CloudFront distribution on moto, as the stack has one; returns its id.
pub async fn distribution(cf: &aws_sdk_cloudfront::Client) -> String {
    use aws_sdk_cloudfront::types::{
        CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, Origin, OriginProtocolPolicy,
        Origins, ViewerProtocolPolicy,
    };
    let origin = Origin::builder()
        .id("api")
        .domain_name("abc123defg.execute-api.us-east-1.amazonaws.com")
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference(crate::unique_name("dist"))
        .comment("blog test")
        .enabled(true)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("api")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id("658327ea-f89d-4fab-a63d-7e88639e58f6")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = cf
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .unwrap();
    out.distribution.unwrap().id
}

/// The invalidation batches CloudFront recorded for a distribution, each sorted.
pub async fn invalidations(cf: &aws_sdk_cloudfront::Client, id: &str) -> Vec<Vec<String>> {
    let list = cf
        .list_invalidations()
        .distribution_id(id)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    let items = list
        .invalidation_list
        .and_then(|l| l.items)
        .unwrap_or_default();
    for summary in items {
        let inv = cf
            .get_invalidation()
            .distribution_id(id)
            .id(summary.id)
            .send()
            .await
            .unwrap();
        let mut paths = inv
            .invalidation
            .and_then(|i| i.invalidation_batch)
            .and_then(|b| b.paths)
            .and_then(|p| p.items)
            .unwrap_or_default();
        paths.sort();
        out.push(paths);
    }
    out
}

/// The publish token's parameter holding the test token, as the stack's; returns
/// its name.
pub async fn publish_token_parameter(sdk: &aws_config::SdkConfig) -> String {
    let name = format!("/{}/publish-token", crate::unique_name("blog"));
    blog_core::aws::ssm(sdk)
        .put_parameter()
        .name(&name)
        .value(crate::api::TOKEN)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    name
}

/// The drain function's ARN the publish function's schedules name in tests.
pub const DRAIN_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:blog-drain";

/// Everything the publish and drain functions read from their environment, as the
/// stack sets it: the emulators, the table and bucket, a fresh publish token parameter and
/// schedule group, the distribution, and CloudFront at `cloudfront` when given (a
/// stand-in) instead of moto. Returns the environment and the schedule group.
pub async fn function_env(
    sdk: &aws_config::SdkConfig,
    table: &str,
    bucket: &str,
    distribution: &str,
    cloudfront: Option<&str>,
) -> (Vec<(String, String)>, String) {
    let parameter = publish_token_parameter(sdk).await;
    let group = crate::unique_name("posts");
    blog_core::aws::scheduler(sdk)
        .create_schedule_group()
        .name(&group)
        .send()
        .await
        .unwrap();
    let mut env = self::env(endpoint());
    for (k, v) in [
        ("BLOG_TABLE", table),
        ("BLOG_BUCKET", bucket),
        ("BLOG_TOKEN_PARAMETER", parameter.as_str()),
        ("BLOG_DISTRIBUTION_ID", distribution),
        ("BLOG_BASE_URL", "https://blog.test"),
        ("BLOG_SCHEDULE_GROUP", group.as_str()),
        ("BLOG_SCHEDULE_TARGET", DRAIN_ARN),
        (
            "BLOG_SCHEDULE_ROLE",
            "arn:aws:iam::123456789012:role/blog-scheduler",
        ),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    if let Some(cf) = cloudfront {
        env.push(("AWS_ENDPOINT_URL_CLOUDFRONT".to_owned(), cf.to_owned()));
    }
    (env, group)
}
