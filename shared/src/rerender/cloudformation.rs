//! The deploy's trigger: a CloudFormation custom resource backed by the drain
//! function (`SiteRender` in `template.yaml`). Its properties name the drain's
//! published version, so CloudFormation sends an `Update` whenever a deploy changes
//! the function's code, which carries the renderer and page versions, and the
//! site's settings, which reach pages without changing either version; the run
//! decides, from the versions the table records, whether anything changes.
//!
//! The answer goes to the pre-signed `ResponseURL` as CloudFormation documents it
//! ("Custom resource response objects"): a PUT of a JSON body with `Status`,
//! `Reason`, `PhysicalResourceId`, `StackId`, `RequestId`, `LogicalResourceId` and
//! `Data` (read with `!GetAtt SiteRender.RendererVersion`).

use serde::Deserialize;

use super::{Progress, SiteVersions};

/// The physical id this resource keeps: the same on every answer, so an update is
/// never taken for a replacement.
pub const PHYSICAL_ID: &str = "site-render";

/// The publish token's resource type (answered by `token_parameter`, not here).
pub const TOKEN_RESOURCE_TYPE: &str = "Custom::PublishToken";

/// Longest `Reason` sent (CloudFormation shows it in the stack's events).
const REASON_LEN: usize = 1000;

/// The kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RequestType {
    /// The stack was created (or the resource added).
    Create,
    /// The resource's properties changed: a deploy with new function code.
    Update,
    /// The stack (or the resource) is being removed.
    Delete,
}

/// A custom resource request, as CloudFormation sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// Create, Update or Delete.
    pub request_type: RequestType,
    /// Where the answer goes (a pre-signed S3 URL).
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    /// The stack.
    pub stack_id: String,
    /// This request.
    pub request_id: String,
    /// The resource's name in the template.
    pub logical_resource_id: String,
    /// The resource's type in the template (`Custom::PublishToken` is answered by
    /// `token_parameter`; the re-render takes the rest).
    #[serde(default)]
    pub resource_type: String,
    /// The id an earlier answer gave (absent on Create).
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    /// The properties now.
    #[serde(default)]
    pub resource_properties: serde_json::Value,
    /// The properties before an Update.
    #[serde(default)]
    pub old_resource_properties: Option<serde_json::Value>,
}

impl Request {
    /// The request in `event`, if it is one (it has a `RequestType` and a `ResponseURL`).
    pub fn of(event: &serde_json::Value) -> Option<Self> {
        if event.get("RequestType").is_none() || event.get("ResponseURL").is_none() {
            return None;
        }
        serde_json::from_value(event.clone()).ok()
    }

    /// Whether an Update changed the site's settings (title, URL, time zone...):
    /// every page shows them, and neither version covers them.
    pub fn settings_changed(&self) -> bool {
        self.old_resource_properties
            .as_ref()
            .is_some_and(|old| old["Settings"] != self.resource_properties["Settings"])
    }

    /// The answer's body: SUCCESS with the versions and counts, or FAILED with why.
    pub fn answer(&self, outcome: Result<&Progress, &str>) -> serde_json::Value {
        let current = SiteVersions::current();
        let (status, reason, data) = match outcome {
            Ok(progress) => (
                "SUCCESS",
                summary(progress),
                serde_json::json!({
                    "RendererVersion": current.renderer,
                    "PagesVersion": current.pages,
                    "Rerendered": progress.rerendered.len(),
                    "Failed": progress.failed.len(),
                    "Invalidation": progress.invalidation.as_deref().unwrap_or(""),
                }),
            ),
            Err(why) => ("FAILED", why.to_owned(), serde_json::json!({})),
        };
        self.respond_with(
            status,
            &reason,
            self.physical_resource_id.as_deref().unwrap_or(PHYSICAL_ID),
            data,
        )
    }

    /// An answer with `outcome` as SUCCESS (the reason) or FAILED (why), for the
    /// resource `physical_id`.
    pub fn respond(
        &self,
        outcome: Result<String, String>,
        physical_id: &str,
        data: serde_json::Value,
    ) -> serde_json::Value {
        match outcome {
            Ok(reason) => self.respond_with("SUCCESS", &reason, physical_id, data),
            Err(why) => self.respond_with("FAILED", &why, physical_id, data),
        }
    }

    fn respond_with(
        &self,
        status: &str,
        reason: &str,
        physical_id: &str,
        data: serde_json::Value,
    ) -> serde_json::Value {
        serde_json::json!({
            "Status": status,
            "Reason": shorten(reason),
            "PhysicalResourceId": physical_id,
            "StackId": self.stack_id,
            "RequestId": self.request_id,
            "LogicalResourceId": self.logical_resource_id,
            "NoEcho": false,
            "Data": data,
        })
    }
}

/// What the run did, in a line for the stack's events.
fn summary(progress: &Progress) -> String {
    if progress.up_to_date {
        return "the site was already at these versions".to_owned();
    }
    let mut line = format!(
        "re-rendered {} posts ({} changed by a publish meanwhile); invalidation {}",
        progress.rerendered.len(),
        progress.raced.len(),
        progress
            .invalidation
            .as_deref()
            .unwrap_or("none (another run queued it)"),
    );
    for (slug, why) in &progress.failed {
        line.push_str(&format!("; {slug} kept its old HTML: {why}"));
    }
    line
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(REASON_LEN) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Why an answer did not arrive.
#[cfg(feature = "lambda-drain")]
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The URL could not be used.
    #[error("the response URL is not usable: {0}")]
    Url(String),
    /// The request failed, or the server failed: worth another try.
    #[error("sending the answer failed: {0}")]
    Send(String),
    /// The server refused it (an expired or altered URL): no retry helps.
    #[error("the answer was refused: {0}")]
    Refused(String),
    /// The HTTPS client could not be set up (the pinned roots).
    #[error("cannot set up HTTPS: {0}")]
    Tls(String),
}

#[cfg(feature = "lambda-drain")]
impl AnswerError {
    /// Whether sending again later may work.
    pub fn transient(&self) -> bool {
        matches!(self, AnswerError::Send(_))
    }
}

#[cfg(feature = "lambda-drain")]
/// PUTs `body` to the request's pre-signed URL over HTTPS (plain HTTP only for a
/// loopback test server), trusting the pinned Amazon roots the SDK trusts.
pub async fn send(request: &Request, body: &serde_json::Value) -> Result<(), AnswerError> {
    let uri: http::Uri = request
        .response_url
        .parse()
        .map_err(|e: http::uri::InvalidUri| AnswerError::Url(e.to_string()))?;
    let loopback = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if uri.scheme_str() != Some("https") && !(loopback && uri.scheme_str() == Some("http")) {
        return Err(AnswerError::Url("not https".into()));
    }
    let bytes = bytes::Bytes::from(body.to_string());
    // The pre-signed URL signs no content type: CloudFormation's own helper sends
    // an empty one.
    let put = http::Request::put(uri)
        .header(http::header::CONTENT_TYPE, "")
        .header(http::header::CONTENT_LENGTH, bytes.len())
        .body(http_body_util::Full::new(bytes))
        .map_err(|e| AnswerError::Url(e.to_string()))?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector()?);
    let response = tokio::time::timeout(std::time::Duration::from_secs(10), client.request(put))
        .await
        .map_err(|_| AnswerError::Send("no answer within 10 s".into()))?
        .map_err(|e| AnswerError::Send(e.to_string()))?;
    let status = response.status();
    let text = http_body_util::BodyExt::collect(response.into_body())
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    if status.is_client_error() {
        return Err(AnswerError::Refused(format!("{status}: {text}")));
    }
    if !status.is_success() {
        return Err(AnswerError::Send(format!("{status}: {text}")));
    }
    Ok(())
}

#[cfg(feature = "lambda-drain")]
type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

#[cfg(feature = "lambda-drain")]
fn connector() -> Result<Connector, AnswerError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(crate::aws::AMAZON_ROOTS) {
        let cert = cert.map_err(|e| AnswerError::Tls(format!("the pinned roots: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| AnswerError::Tls(format!("the pinned roots: {e}")))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| AnswerError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build())
}

#[cfg(feature = "lambda-drain")]
/// Answers each due request ([`super::Wake::due`]) and forgets those answered or
/// refused; one whose answer may still get through stays kept, for the sweep to
/// send again (the pre-signed URL lasts two hours). Returns how many were answered.
pub async fn answer_due<S: super::RenderLedger>(
    store: &S,
    due: &[(serde_json::Value, Result<Progress, String>)],
) -> usize {
    let mut answered = 0;
    for (event, outcome) in due {
        let Some(request) = Request::of(event) else {
            continue;
        };
        let body = request.answer(outcome.as_ref().map_err(String::as_str));
        match send(&request, &body).await {
            Ok(()) => {
                answered += 1;
                tracing::info!(request = %request.request_id, status = %body["Status"], "answered CloudFormation");
            }
            Err(e) if e.transient() => {
                tracing::warn!(request = %request.request_id, error = %e, "answer to CloudFormation not delivered; the sweep sends it again");
                continue;
            }
            Err(e) => {
                tracing::error!(request = %request.request_id, error = %e, "answer to CloudFormation refused; dropped");
            }
        }
        if let Err(e) = store.drop_request(&request.request_id).await {
            tracing::warn!(request = %request.request_id, error = %e, "an answered request stays kept; it may be answered again");
        }
    }
    answered
}
#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str) -> serde_json::Value {
        serde_json::json!({
            "RequestType": kind,
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:blog-drain",
            "ResponseURL": "https://example.invalid/answer",
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/blog/1",
            "RequestId": "r-1",
            "LogicalResourceId": "SiteRender",
            "ResourceType": "Custom::SiteRender",
            "ResourceProperties": {"CodeVersion": "3"}
        })
    }

    #[test]
    fn requests_are_told_from_other_events() {
        let create = Request::of(&event("Create")).unwrap();
        assert_eq!(create.request_type, RequestType::Create);
        assert_eq!(create.physical_resource_id, None);
        assert!(Request::of(&serde_json::json!({"source": "aws.events"})).is_none());
        assert!(Request::of(&event("Replace")).is_none());
    }

    #[test]
    fn the_answer_keeps_the_ids_and_reports_the_versions() {
        let mut update = event("Update");
        update["PhysicalResourceId"] = "site-render".into();
        let request = Request::of(&update).unwrap();
        let progress = Progress {
            rerendered: vec![crate::post::Slug::parse("a").unwrap()],
            invalidation: Some("7".into()),
            ..Progress::default()
        };
        let body = request.answer(Ok(&progress));
        assert_eq!(body["Status"], "SUCCESS");
        assert_eq!(body["PhysicalResourceId"], "site-render");
        assert_eq!(body["RequestId"], "r-1");
        assert_eq!(body["Data"]["Rerendered"], 1);
        assert_eq!(body["Data"]["RendererVersion"], crate::version::RENDERER);
        let failed = request.answer(Err("the table is unavailable"));
        assert_eq!(failed["Status"], "FAILED");
        assert_eq!(failed["Reason"], "the table is unavailable");
    }
}
