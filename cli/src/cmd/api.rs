//! The publish API client the author's commands share.

use std::cell::Cell;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

use crate::cli::Remote;

/// A connection to one site's publish API. Requests are paced to `--rate`, and a
/// request refused for load (429 from API Gateway's throttle, 503 from a busy
/// store; neither changed anything) is sent again after the server's
/// `Retry-After`, or an exponential backoff when it gives none.
pub struct Api {
    endpoint: String,
    token: String,
    agent: ureq::Agent,
    /// Time between requests.
    interval: Duration,
    /// When the next request may go.
    next_at: Cell<Instant>,
    /// Requests sent and refused for load, for the summary of bulk runs.
    pub sent: Cell<u32>,
    pub refused: Cell<u32>,
    /// Whether the last call was sent again after a 503: a write's first attempt
    /// may then have landed with its answer lost.
    retried_unavailable: Cell<bool>,
}

/// Sends of one request refused for load before giving up.
const LOAD_ATTEMPTS: u32 = 8;
/// The backoff when a refusal carries no `Retry-After`: doubling from this.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait honoured, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// The wait a 429 or 503 asks for: `Retry-After` in seconds (an HTTP date is
/// rare from these servers and falls back to `fallback`), capped at [`MAX_WAIT`].
pub fn retry_wait(retry_after: Option<&str>, fallback: Duration) -> Duration {
    retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(fallback, Duration::from_secs)
        .min(MAX_WAIT)
}

/// An answer: status, `ETag`, JSON body.
pub struct ApiReply {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Value,
}

impl ApiReply {
    /// The API's error message, or the status.
    pub fn message(&self) -> String {
        match self.body["message"].as_str() {
            Some(m) => format!("{} ({})", m, self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// A request body.
pub enum Body<'a> {
    None,
    Json(&'a Value),
    Bytes(&'a [u8], &'a str),
}

impl Api {
    /// From `--endpoint`/`BLOG_ENDPOINT` and `BLOG_TOKEN`.
    pub fn new(remote: &Remote) -> anyhow::Result<Self> {
        let Some(token) = remote.token.clone().filter(|t| !t.trim().is_empty()) else {
            bail!("set BLOG_TOKEN to the publish token (the deployed stack's PublishTokenCommand output prints it; `blog serve` prints its own)");
        };
        let endpoint = remote.endpoint.trim_end_matches('/').to_owned();
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            bail!("--endpoint must be the site's URL, such as https://blog.example.com, got \"{endpoint}\"");
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        if !(remote.rate.is_finite() && remote.rate > 0.0) {
            bail!(
                "--rate must be a number of requests a second above 0, got {}",
                remote.rate
            );
        }
        Ok(Self {
            endpoint,
            token: token.trim().to_owned(),
            agent,
            interval: Duration::from_secs_f64(1.0 / remote.rate),
            next_at: Cell::new(Instant::now()),
            sent: Cell::new(0),
            refused: Cell::new(0),
            retried_unavailable: Cell::new(false),
        })
    }

    /// The site's URL for a path the API returned (absolute URLs pass through).
    pub fn site_url(&self, url_or_path: &str) -> String {
        if url_or_path.starts_with('/') {
            format!("{}{url_or_path}", self.endpoint)
        } else {
            url_or_path.to_owned()
        }
    }

    /// Sends `bytes` to a presigned upload as the API described it (`url` and the
    /// signed `headers`), with the same client; returns the storage's status.
    pub fn upload(&self, upload: &Value, bytes: Vec<u8>) -> anyhow::Result<u16> {
        let mut req = http::Request::builder()
            .method("PUT")
            .uri(upload["url"].as_str().unwrap_or_default());
        for pair in upload["headers"].as_array().into_iter().flatten() {
            if let (Some(k), Some(v)) = (pair[0].as_str(), pair[1].as_str()) {
                req = req.header(k, v);
            }
        }
        let res = self
            .agent
            .run(req.body(bytes)?)
            .context("uploading to the presigned URL")?;
        Ok(res.status().as_u16())
    }

    /// Every post's slug on the site (drafts and scheduled posts too), in the
    /// API's order: one request.
    pub fn slugs(&self) -> anyhow::Result<Vec<String>> {
        let reply = self.call("GET", "/api/posts", Body::None, None)?;
        if reply.status != 200 {
            bail!("listing the site's posts: {}", reply.message());
        }
        Ok(reply.body["posts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["slug"].as_str().map(str::to_owned))
            .collect())
    }

    /// Reads a file the API named: from the presigned `url` it gave, or from the
    /// `base64` bytes it sent along.
    pub fn download(&self, reply: &Value) -> anyhow::Result<Vec<u8>> {
        use base64::Engine as _;
        if let Some(data) = reply["base64"].as_str() {
            return base64::engine::general_purpose::STANDARD
                .decode(data)
                .context("the API's base64 is damaged");
        }
        let url = reply["url"]
            .as_str()
            .context("the API named neither a URL nor the bytes")?;
        let mut res = self
            .agent
            .get(url)
            .call()
            .context("downloading from the presigned URL")?;
        let status = res.status().as_u16();
        if status != 200 {
            bail!("the storage answered HTTP {status}");
        }
        Ok(res
            .body_mut()
            .with_config()
            .limit(100 * 1024 * 1024)
            .read_to_vec()?)
    }

    /// Waits for the request's turn under `--rate`.
    fn pace(&self) {
        let now = Instant::now();
        let at = self.next_at.get().max(now);
        std::thread::sleep(at - now);
        self.next_at.set(at + self.interval);
    }

    /// One request to `path` (below the endpoint), sent again while the server
    /// refuses it for load.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Body<'_>,
        if_match: Option<&str>,
    ) -> anyhow::Result<ApiReply> {
        let mut backoff = FIRST_BACKOFF;
        self.retried_unavailable.set(false);
        for attempt in 1..=LOAD_ATTEMPTS {
            self.pace();
            let (reply, retry_after) = self.send(method, path, &body, if_match)?;
            if !matches!(reply.status, 429 | 503) || attempt == LOAD_ATTEMPTS {
                return Ok(reply);
            }
            self.refused.set(self.refused.get() + 1);
            if reply.status == 503 {
                self.retried_unavailable.set(true);
            }
            let wait = retry_wait(retry_after.as_deref(), backoff);
            tracing::info!(
                status = reply.status,
                wait_ms = wait.as_millis() as u64,
                "{method} {path}: refused for load; waiting"
            );
            std::thread::sleep(wait);
            // The next turn starts after the wait.
            self.next_at.set(Instant::now());
            backoff = (backoff * 2).min(MAX_WAIT);
        }
        unreachable!("the last attempt returns")
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: &Body<'_>,
        if_match: Option<&str>,
    ) -> anyhow::Result<(ApiReply, Option<String>)> {
        self.sent.set(self.sent.get() + 1);
        let url = format!("{}{path}", self.endpoint);
        let mut req = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("accept", "application/json");
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        let (content_type, bytes) = match body {
            Body::None => (None, Vec::new()),
            Body::Json(v) => (Some("application/json"), serde_json::to_vec(v)?),
            Body::Bytes(b, t) => (Some(*t), b.to_vec()),
        };
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let req = req.body(bytes).context("building the request")?;
        let mut res = self
            .agent
            .run(req)
            .with_context(|| format!("{method} {url}: cannot reach the publish API"))?;
        let status = res.status().as_u16();
        let etag = res
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = res
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status == 401 {
            bail!("the publish API refused the token (401): check BLOG_TOKEN");
        }
        Ok((ApiReply { status, etag, body }, retry_after))
    }

    /// Whether the last call was sent again after a 503.
    pub fn retried_unavailable(&self) -> bool {
        self.retried_unavailable.get()
    }

    /// Holds the site's invalidation queue for a bulk run, so it ends in one batch;
    /// the returned guard releases it (also when the run fails). A site that cannot
    /// hold (a stack deployed before the queue existed) gets a warning, and each
    /// write then goes out on its own.
    pub fn hold_invalidations(&self) -> anyhow::Result<Option<HoldGuard<'_>>> {
        let why = match self.call("POST", "/api/invalidations/hold", Body::None, None) {
            Ok(reply) if reply.status == 200 => None,
            Ok(reply) => Some(reply.message()),
            Err(e) => Some(format!("{e:#}")),
        };
        if let Some(why) = why {
            eprintln!(
                "warning: cannot hold the site's invalidations ({why}); each write is invalidated on its own"
            );
            return Ok(None);
        }
        Ok(Some(HoldGuard {
            api: self,
            since: Cell::new(Instant::now()),
        }))
    }
}

/// How often a long run renews its hold (the API holds for 15 minutes at most).
const HOLD_RENEW: Duration = Duration::from_secs(5 * 60);

/// Releases the invalidation hold when dropped: the queued paths go out as one batch.
pub struct HoldGuard<'a> {
    api: &'a Api,
    since: Cell<Instant>,
}

impl HoldGuard<'_> {
    /// Renews the hold when it is due, for runs longer than the hold.
    pub fn keep(&self) {
        if self.since.get().elapsed() < HOLD_RENEW {
            return;
        }
        match self
            .api
            .call("POST", "/api/invalidations/hold", Body::None, None)
        {
            Ok(r) if r.status == 200 => self.since.set(Instant::now()),
            _ => eprintln!(
                "could not renew the invalidation hold; batches may go out before the run ends"
            ),
        }
    }
}

impl Drop for HoldGuard<'_> {
    fn drop(&mut self) {
        match self
            .api
            .call("DELETE", "/api/invalidations/hold", Body::None, None)
        {
            Ok(r) if r.status == 200 => {}
            // The hold expires by itself (15 minutes at most); the queue then drains.
            Ok(r) => eprintln!(
                "releasing the invalidation hold: {} (it expires by itself within 15 minutes)",
                r.message()
            ),
            Err(e) => eprintln!(
                "releasing the invalidation hold: {e:#} (it expires by itself within 15 minutes)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_honoured_within_a_cap() {
        let fallback = Duration::from_millis(500);
        assert_eq!(retry_wait(Some("3"), fallback), Duration::from_secs(3));
        assert_eq!(retry_wait(Some(" 0 "), fallback), Duration::ZERO);
        assert_eq!(retry_wait(Some("3600"), fallback), MAX_WAIT);
        // An HTTP date or nothing: the backoff.
        assert_eq!(
            retry_wait(Some("Wed, 21 Oct 2026 07:28:00 GMT"), fallback),
            fallback
        );
        assert_eq!(retry_wait(None, fallback), fallback);
    }
}
