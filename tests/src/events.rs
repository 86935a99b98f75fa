//! The API Gateway events in `events/`, what each should get back, and which
//! function's route key it carries.

use blog_core::routes::{Function, ROUTES};

/// (event name, expected status, DynamoDB operations one view of it costs).
pub const EXPECTED: &[(&str, u16, &[&str])] = &[
    ("home-ok", 200, &["Query", "Query"]),
    ("home-head", 200, &["Query", "Query"]),
    ("home-older-page", 200, &["Query", "Query"]),
    ("home-bad-cursor", 400, &[]),
    ("home-post-method", 405, &[]),
    ("post-ok", 200, &["GetItem"]),
    ("post-head", 200, &["GetItem"]),
    ("post-if-none-match", 200, &["GetItem"]),
    ("post-url-encoded-slug", 200, &["GetItem"]),
    ("post-via-cloudfront", 200, &["GetItem"]),
    // A miss also asks whether the path is an old URL (an alias).
    ("post-missing", 404, &["GetItem", "GetItem"]),
    ("post-draft", 404, &["GetItem", "GetItem"]),
    ("post-future", 404, &["GetItem", "GetItem"]),
    ("post-missing-slash", 301, &[]),
    // Not a slug: not found at once (no 301 first, no alias lookup; on Lambda it
    // once resolved to the home page).
    ("post-dotdot", 404, &[]),
    ("post-dotdot-missing-slash", 404, &[]),
    ("post-delete-method", 405, &[]),
    ("default-alias", 301, &["GetItem"]),
    ("default-missing", 404, &["GetItem"]),
    // `/assets` without a key once panicked the post function (found by fuzzing).
    ("default-assets-bare", 404, &["GetItem"]),
    // Listings also read every public key, side by side with the page ("page 2
    // of 20"); the archive is one Query of the listing index.
    ("default-archive", 200, &["Query"]),
    ("default-subscribe", 200, &[]),
    ("default-favicon", 200, &[]),
    ("tags-ok", 200, &["Query"]),
    ("tag-ok", 200, &["Query", "Query"]),
    ("tag-space", 200, &["Query", "Query"]),
    ("tag-unicode", 200, &["Query", "Query"]),
    ("tag-older-page", 200, &["Query", "Query"]),
    ("tag-missing", 404, &["Query", "Query", "GetItem"]),
    ("feed-atom", 200, &["Query"]),
    ("feed-rss", 200, &["Query"]),
    ("feed-tag", 200, &["Query"]),
    ("feed-sitemap", 200, &["Query"]),
    ("feed-robots", 200, &[]),
];

/// The publish API's events (`api-*`), in the order a test sends them (the create
/// first, so later reads see it), with the status each should get.
pub const API_EXPECTED: &[(&str, u16)] = &[
    ("api-create-post", 201),
    ("api-list-posts", 200),
    ("api-get-post", 200),
    ("api-update-stale", 412),
    ("api-update-no-if-match", 428),
    ("api-delete-stale", 412),
    ("api-no-token", 401),
    ("api-wrong-token", 401),
    ("api-bad-front-matter", 400),
    ("api-wrong-content-type", 415),
    ("api-upload-image", 201),
    ("api-upload-svg", 415),
    ("api-list-assets", 200),
    ("api-restore-asset", 201),
    ("api-unknown-route", 404),
    ("api-wrong-method", 405),
];

/// A drain function event from `events/drain/` (stream records and the sweep).
pub fn load_drain(name: &str) -> String {
    std::fs::read_to_string(crate::workspace().join(format!("events/drain/{name}.json")))
        .unwrap_or_else(|e| panic!("events/drain/{name}.json: {e}"))
}

/// The text of `events/<name>.json`.
pub fn load(name: &str) -> String {
    let path = crate::workspace().join(format!("events/{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Names of every file in `events/`.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(crate::workspace().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// The function API Gateway would call for this event, by its route key.
pub fn function_for(event: &str) -> Function {
    let value: serde_json::Value = serde_json::from_str(event).unwrap();
    let key = value["routeKey"].as_str().unwrap();
    ROUTES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("route key {key} is not in routes::ROUTES"))
}

/// A parsed Lambda HTTP response: status, headers, body bytes.
pub struct LambdaResponse {
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// Body, base64-decoded when the function sent binary.
    pub body: Vec<u8>,
}

impl LambdaResponse {
    /// Reads API Gateway's payload 2.0 response JSON.
    pub fn parse(v: &serde_json::Value) -> Self {
        use base64::Engine as _;
        let body = match v["body"].as_str() {
            None => Vec::new(),
            Some(b) if v["isBase64Encoded"].as_bool() == Some(true) => {
                base64::engine::general_purpose::STANDARD.decode(b).unwrap()
            }
            Some(b) => b.as_bytes().to_vec(),
        };
        Self {
            status: u16::try_from(v["statusCode"].as_u64().unwrap()).unwrap(),
            headers: v["headers"].as_object().cloned().unwrap_or_default(),
            body,
        }
    }

    /// Asserts the answer to a storage fault: 503, `Retry-After`, never stored, and
    /// within the functions' SDK deadline (plus a margin for a loaded machine).
    pub fn assert_unavailable(&self, took: std::time::Duration, what: &str) {
        assert_eq!(
            self.status,
            503,
            "{what}: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("retry-after"), "5", "{what}");
        assert_eq!(self.header("cache-control"), "no-store", "{what}");
        let limit = blog_core::aws::OPERATION_TIMEOUT + std::time::Duration::from_secs(3);
        assert!(took < limit, "{what}: answered after {took:?}");
    }

    /// A header's value, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }
}
