//! The API's JSON replies, one type each: what a client can rely on.

use serde::Serialize;

use crate::cdn::Invalidation;
use crate::post::{Slug, Tag};
use crate::schedule::ScheduleReport;
use crate::store::PresignedUpload;

/// `GET /api/posts`.
#[derive(Debug, Serialize)]
pub struct PostList {
    /// Every post, drafts included, newest first.
    pub posts: Vec<PostListEntry>,
}

/// One line of [`PostList`].
#[derive(Debug, Serialize)]
pub struct PostListEntry {
    pub slug: Slug,
    pub title: String,
    /// RFC 3339.
    pub date: String,
    pub draft: bool,
    pub path: String,
    /// When a post dated in the future goes live (its schedule's minute, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
}

/// `GET /api/posts/{slug}`: the post as the author would write it.
#[derive(Debug, Serialize)]
pub struct PostSource {
    pub slug: Slug,
    /// The version `If-Match` names (also the `ETag`), as a string.
    pub version: String,
    pub title: String,
    pub date: String,
    pub draft: bool,
    pub tags: Vec<Tag>,
    pub path: String,
    pub url: String,
    /// Canonical front matter and body.
    pub source: String,
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteStatus {
    Created,
    Updated,
    /// An update that changed nothing: no write, no invalidation.
    Unchanged,
    Deleted,
}

impl WriteStatus {
    /// The name the API reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Deleted => "deleted",
        }
    }
}

/// The reply to a create, update or delete.
#[derive(Debug, Serialize)]
pub struct WriteReport {
    pub status: WriteStatus,
    pub slug: Slug,
    pub path: String,
    pub url: String,
    /// The version now stored (absent after a delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Whether readers see it now (not a draft, not dated later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// The slug a rename left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<Slug>,
    pub invalidation: Invalidation,
    /// What the write did to the post's schedule (a post public at a future time
    /// has one that fires at its minute), when it did anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleReport>,
}

impl WriteReport {
    /// A report on `slug` with no details yet.
    pub fn new(status: WriteStatus, slug: Slug) -> Self {
        Self {
            status,
            slug,
            path: String::new(),
            url: String::new(),
            version: None,
            draft: None,
            date: None,
            public: None,
            renamed_from: None,
            invalidation: Invalidation::none(),
            schedule: None,
        }
    }
}

/// A stored asset, and how to use it in a post.
#[derive(Debug, Serialize)]
pub struct StoredAsset {
    pub key: String,
    pub path: String,
    pub url: String,
    /// A Markdown image referring to it.
    pub markdown: String,
    /// Where to send the bytes, for a presigned upload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<PresignedUpload>,
    /// For an image set: its largest size, the upload's size, and its files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSetReply>,
}

/// What an upload was made into.
#[derive(Debug, Serialize)]
pub struct ImageSetReply {
    /// The largest variant's width and height.
    pub width: u32,
    pub height: u32,
    /// The upload's width and height, upright.
    pub original_width: u32,
    pub original_height: u32,
    /// Bytes of the upload.
    pub original_bytes: usize,
    /// Every file served, with its size in bytes.
    pub variants: Vec<VariantReply>,
}

/// One served file of a set.
#[derive(Debug, Serialize)]
pub struct VariantReply {
    pub path: String,
    #[serde(rename = "type")]
    pub mime: &'static str,
    pub bytes: usize,
}

/// A presigned upload: where to send the file, then what to call.
#[derive(Debug, Serialize)]
pub struct PresignedReply {
    /// The upload's key among the originals.
    pub original: String,
    /// Where to send the bytes.
    pub upload: PresignedUpload,
    /// The call that makes the uploaded file into what pages serve.
    pub process: ProcessCall,
}

/// `POST /api/assets/process` with this body.
#[derive(Debug, Serialize)]
pub struct ProcessCall {
    pub method: &'static str,
    pub path: &'static str,
    pub body: serde_json::Value,
}

/// An error: the status and message from `http::problem`, plus the field and line
/// when the author's input is at fault.
#[derive(Debug, Serialize)]
pub struct ErrorReply {
    pub error: &'static str,
    pub message: String,
    pub status: u16,
    /// Present (each `null` when unknown) for the author's input errors only.
    #[serde(flatten)]
    pub at: Option<InputAt>,
}

/// Where in the author's input an error is.
#[derive(Debug, Serialize)]
pub struct InputAt {
    pub field: Option<String>,
    pub line: Option<usize>,
}
