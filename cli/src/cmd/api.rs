//! The publish API client the author's commands share.

use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::cli::Remote;

/// A connection to one site's publish API.
pub struct Api {
    endpoint: String,
    token: String,
    agent: ureq::Agent,
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
        Ok(Self {
            endpoint,
            token: token.trim().to_owned(),
            agent,
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

    /// One request to `path` (below the endpoint).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Body<'_>,
        if_match: Option<&str>,
    ) -> anyhow::Result<ApiReply> {
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
            Body::Bytes(b, t) => (Some(t), b.to_vec()),
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
        Ok(ApiReply { status, etag, body })
    }
}
