//! The table's items: keys, the stored shape of each kind, and the conversions
//! between items and posts.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::cdn::outbox::{Queued, Sent, SENT_KEEP_DAYS};
use crate::error::StoreError;
use crate::post::{Post, PostSummary, Slug, Tag};
use crate::rerender::{Job, SiteVersions};

/// Name of the sparse index of published posts by date.
pub const BY_DATE: &str = "byDate";
/// Non-key attributes the index projects: exactly what a listing shows.
pub const LISTING_ATTRIBUTES: [&str; 8] = [
    "slug",
    "title",
    "date",
    "updated",
    "tags",
    "description",
    "summary_html",
    "reading_minutes",
];
/// DynamoDB's item size limit.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's limit for one transaction, in bytes.
pub(super) const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// DynamoDB's limit of items per transaction.
pub(super) const MAX_TRANSACTION_ITEMS: usize = 100;

pub(super) const FEED_PK: &str = "FEED";
pub(super) const SITE_PK: &str = "SITE";
/// The index partitions: drafts sit in their own, read only by the author's index.
pub(super) const PUBLISHED: &str = "PUBLISHED";
pub(super) const DRAFTS: &str = "DRAFT";
pub(super) const POST_SK: &str = "POST";
/// The outbox's partition: queued invalidations (`Q#<id>`), the hold (`HOLD`) and
/// sent batches (`SENT#<time>#<id>`, expired by the table's TTL on `expires`).
pub(super) const OUTBOX_PK: &str = "OUTBOX";
pub(super) const QUEUED_PREFIX: &str = "Q#";
pub(super) const HOLD_SK: &str = "HOLD";
pub(super) const SENT_PREFIX: &str = "SENT#";
pub(super) const ALIAS_SK: &str = "ALIAS";
/// The re-render's partition: the versions the site is at (`STATE`) and an
/// unfinished run (`JOB`), see `crate::rerender`.
pub(super) const RENDER_PK: &str = "RENDER";
pub(super) const STATE_SK: &str = "STATE";
pub(super) const JOB_SK: &str = "JOB";
pub(super) const REQUEST_PREFIX: &str = "REQ#";

pub(super) fn post_pk(slug: &Slug) -> String {
    format!("POST#{slug}")
}

pub(super) fn tag_pk(tag: &Tag) -> String {
    format!("TAG#{tag}")
}

pub(super) fn alias_pk(path: &str) -> String {
    format!("ALIAS#{path}")
}

/// An item as the SDK carries it.
pub(super) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The key of the item at (`pk`, `sk`).
pub(super) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// A post: every field, the rendered HTML and its version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PostItem {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    pub version: u64,
    #[serde(flatten)]
    pub post: Post,
}

impl PostItem {
    pub fn new(post: Post, version: u64) -> Self {
        let partition = if post.draft { DRAFTS } else { PUBLISHED };
        Self {
            pk: post_pk(&post.slug),
            sk: POST_SK.into(),
            gsi1pk: Some(partition.to_owned()),
            gsi1sk: Some(post.sort_key().as_str().to_owned()),
            version,
            post,
        }
    }
}

/// A feed or tag entry, or a post seen through the index (then without `html`).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct EntryItem {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pk: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    sk: String,
    #[serde(flatten)]
    pub summary: PostSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl EntryItem {
    /// `post`'s entry in the run `pk` (`FEED` or a tag's).
    pub fn new(pk: String, post: &Post) -> Self {
        Self {
            pk,
            sk: post.sort_key().as_str().to_owned(),
            summary: post.summary(),
            html: Some(post.html.clone()),
        }
    }
}

impl From<EntryItem> for PostSummary {
    fn from(entry: EntryItem) -> Self {
        entry.summary
    }
}

/// An old path that redirects to a post.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct AliasItem {
    pk: String,
    sk: String,
    pub slug: Slug,
}

impl AliasItem {
    pub fn new(path: &str, slug: Slug) -> Self {
        Self {
            pk: alias_pk(path),
            sk: ALIAS_SK.into(),
            slug,
        }
    }
}

/// A queued invalidation in the outbox.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct QueuedItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    pub queued: Queued,
}

impl QueuedItem {
    pub fn new(queued: Queued) -> Self {
        Self {
            pk: OUTBOX_PK.into(),
            sk: format!("{QUEUED_PREFIX}{}", queued.id),
            queued,
        }
    }
}

/// A sent batch's record, removed by the table's TTL after a few days.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SentItem {
    pk: String,
    sk: String,
    /// Epoch seconds after which DynamoDB's TTL deletes the record.
    expires: i64,
    #[serde(flatten)]
    pub sent: Sent,
}

impl SentItem {
    pub fn new(sent: Sent) -> Self {
        Self {
            pk: OUTBOX_PK.into(),
            sk: format!(
                "{SENT_PREFIX}{}#{}",
                sent.sent_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                sent.id
            ),
            expires: (sent.sent_at + chrono::Duration::days(SENT_KEEP_DAYS)).timestamp(),
            sent,
        }
    }
}

pub(super) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode item: {e}")))
}

pub(super) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    let pk = item
        .get("pk")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("item {pk}: {e}")))
}

/// DynamoDB's item size: attribute names plus values (a close upper estimate).
pub(super) fn item_size(item: &Item) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::B(b) => b.as_ref().len(),
            AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>()
            }
            AttributeValue::Ss(s) | AttributeValue::Ns(s) => s.iter().map(String::len).sum(),
            _ => 1,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

/// The versions the site's posts and cached pages were made with.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct VersionsItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    pub versions: SiteVersions,
}

impl VersionsItem {
    pub fn new(versions: SiteVersions) -> Self {
        Self {
            pk: RENDER_PK.into(),
            sk: STATE_SK.into(),
            versions,
        }
    }
}

/// An unfinished re-render.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct JobItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    pub job: Job,
}

impl JobItem {
    pub fn new(job: Job) -> Self {
        Self {
            pk: RENDER_PK.into(),
            sk: JOB_SK.into(),
            job,
        }
    }
}

/// A CloudFormation request waiting for its answer, kept as sent (JSON text: its
/// properties are CloudFormation's, of any shape).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RequestItem {
    pk: String,
    sk: String,
    pub event: String,
}

impl RequestItem {
    pub fn new(id: &str, event: &serde_json::Value) -> Self {
        Self {
            pk: RENDER_PK.into(),
            sk: format!("{REQUEST_PREFIX}{id}"),
            event: event.to_string(),
        }
    }

    pub fn event(&self) -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(&self.event)
            .map_err(|e| StoreError::Corrupt(format!("a kept CloudFormation request: {e}")))
    }
}
