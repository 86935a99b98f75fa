//! Storage behind two small traits. Handlers are generic over them; the
//! implementations (filesystem here, DynamoDB/S3 for Lambda) pass one conformance suite.

use std::future::Future;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::post::{FeedEntry, Neighbour, Post, PostSummary, Slug, SortKey, Tag};

#[cfg(feature = "dynamo")]
pub mod dynamo;
#[cfg(feature = "fs")]
pub mod fs;
#[cfg(feature = "s3")]
pub mod s3;

/// Which slice of the published posts a listing wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The newest posts.
    First,
    /// Posts strictly older than the key (the "older posts" link).
    Before(SortKey),
    /// Posts strictly newer than the key (the "newer posts" link).
    After(SortKey),
}

/// A listing request: published posts dated at or before `now`, newest first.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only posts with this tag, when set.
    pub tag: Option<Tag>,
    /// Where the page starts.
    pub cursor: Cursor,
    /// Most posts to return.
    pub limit: usize,
    /// Posts dated after this are not public yet.
    pub now: DateTime<Utc>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// Newest first, at most `limit`.
    pub posts: Vec<PostSummary>,
    /// Whether more posts lie beyond this page in the cursor's direction
    /// (older for `First`/`Before`, newer for `After`).
    pub more: bool,
    /// Public posts of the listing newer than this page's first post: with
    /// `total`, where the page stands ("page 2 of 20").
    pub newer: usize,
    /// Public posts in the whole listing (all pages).
    pub total: usize,
}

impl Listing {
    /// This page's number (from 1) and how many pages of `per_page` the listing has.
    pub fn page_of(&self, per_page: usize) -> (usize, usize) {
        let per_page = per_page.max(1);
        let pages = self.total.div_ceil(per_page).max(1);
        ((self.newer.div_ceil(per_page) + 1).min(pages), pages)
    }
}

/// A tag and how many public posts carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    /// The tag.
    pub tag: Tag,
    /// Public posts with it.
    pub count: usize,
}

/// Counts tags over the tag lists of public posts, sorted by tag: both stores'
/// `tags()` end here, so they agree by construction.
pub fn count_tags<'a>(tag_lists: impl IntoIterator<Item = &'a [Tag]>) -> Vec<TagCount> {
    let mut counts = std::collections::BTreeMap::<&Tag, usize>::new();
    for tags in tag_lists {
        for tag in tags {
            *counts.entry(tag).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(tag, count)| TagCount {
            tag: tag.clone(),
            count,
        })
        .collect()
}

/// Read access to posts. Every method is one round trip to the backing store.
pub trait Posts: Send + Sync {
    /// The post with this slug, drafts and scheduled posts included (the caller decides).
    fn get(&self, slug: &Slug) -> impl Future<Output = Result<Option<Post>, StoreError>> + Send;

    /// One page of published posts.
    fn list(&self, query: &ListQuery) -> impl Future<Output = Result<Listing, StoreError>> + Send;

    /// The newest public posts in full (for feeds), optionally for one tag.
    fn recent(
        &self,
        tag: Option<&Tag>,
        limit: usize,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<FeedEntry>, StoreError>> + Send;

    /// Every public post's summary, newest first (for the sitemap).
    fn all_public(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<PostSummary>, StoreError>> + Send;

    /// Tags of public posts with their counts, sorted by tag.
    fn tags(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<TagCount>, StoreError>> + Send;

    /// The slug an old path (an alias) now lives at.
    fn alias(&self, path: &str) -> impl Future<Output = Result<Option<Slug>, StoreError>> + Send;

    /// What every page rendered at `now` depends on, when the store can tell cheaply
    /// and without a round trip: equal revisions mean equal pages. `None` (the
    /// default: a shared table can change under the process) means pages are not
    /// kept.
    fn revision(&self, _now: DateTime<Utc>) -> Result<Option<Revision>, StoreError> {
        Ok(None)
    }
}

/// The state of a store's contents as pages see it at some moment: which contents,
/// and how many of its scheduled posts are still to come (a post turning public
/// changes pages without any write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision {
    /// Changes on every change of the contents.
    pub contents: u64,
    /// Posts dated after the moment asked about.
    pub scheduled: usize,
}

/// A post with the version a conditional write must name.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The post as stored.
    pub post: Post,
    /// Changes on every write of the post (not when only its neighbour links move).
    pub version: u64,
}

/// What a write expects to find at the slug it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// No post: a create.
    Absent,
    /// The post at this version: an update.
    Version(u64),
}

impl Expected {
    /// Checks the expectation against the version stored at `slug` (`None`: no
    /// post there). Both stores call this, so they refuse with the same words.
    pub fn check(self, slug: &Slug, stored: Option<u64>) -> Result<(), StoreError> {
        match (self, stored) {
            (Expected::Absent, Some(_)) => Err(StoreError::Conflict(format!(
                "a post with the slug \"{slug}\" already exists: choose another slug, or update that post"
            ))),
            (Expected::Version(_), None) => Err(StoreError::Stale(format!(
                "the post \"{slug}\" no longer exists"
            ))),
            (Expected::Version(want), Some(have)) if want != have => Err(StoreError::Stale(format!(
                "the post \"{slug}\" changed since version {want} (it is at {have})"
            ))),
            _ => Ok(()),
        }
    }
}

/// One line of the author's index of every post, drafts included.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexEntry {
    /// URL name.
    pub slug: Slug,
    /// Title.
    pub title: String,
    /// Publication date.
    pub date: crate::post::PostDate,
    /// Whether it is a draft.
    pub draft: bool,
}

/// The other posts' pages that `post`'s aliases name, as (alias, slug). An alias
/// may name a post's page only while no post lives there (a page that 301s
/// elsewhere once its post is deleted would be a hijack): each store checks these
/// inside its write. The post's own slug and the one a rename leaves (`leaving`)
/// are its own.
pub fn alias_pages<'a>(post: &'a Post, leaving: &Slug) -> Vec<(&'a str, Slug)> {
    post.aliases
        .iter()
        .filter_map(|alias| Some((alias.as_str(), crate::routes::page_slug(alias)?)))
        .filter(|(_, slug)| *slug != post.slug && slug != leaving)
        .collect()
}

/// The refusal of an alias naming `slug`'s live page.
pub fn alias_page_taken(alias: &str, slug: &Slug) -> StoreError {
    StoreError::Conflict(format!(
        "the alias {alias} is the page of the post \"{slug}\": remove it from aliases, or rename or delete that post first"
    ))
}

/// What a write did, and the invalidation it queued.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The post before the write (`None` for a create).
    pub before: Option<Post>,
    /// The post after it (`None` for a delete).
    pub after: Option<Versioned>,
    /// Other posts whose previous/next links the write changed.
    pub relinked: Vec<Neighbour>,
    /// The public paths it changed ([`crate::cdn::paths::changed`]) as of `at`.
    pub paths: Vec<String>,
    /// The moment the paths were computed for: whether the post was public then
    /// decides both the paths and whether it needs a schedule.
    pub at: DateTime<Utc>,
    /// The outbox entry holding `paths`, committed with the write (`None` when
    /// nothing public changed).
    pub queued: Option<String>,
}

/// Write access to posts. Every write is all or nothing and conditional: on the
/// slug being free for a create, on the version for an update or delete.
pub trait PostWriter: Send + Sync {
    /// The post at `slug` with its version, read consistently (not from a cache).
    fn current(
        &self,
        slug: &Slug,
    ) -> impl Future<Output = Result<Option<Versioned>, StoreError>> + Send;

    /// Every post, drafts and scheduled posts included, newest first.
    fn index(&self) -> impl Future<Output = Result<Vec<IndexEntry>, StoreError>> + Send;

    /// Stores `post` in place of the post at `slug` as `expected` says; a different
    /// `post.slug` renames it (the caller adds the old path to `post.aliases`).
    /// `source` is the text the author sent, for stores that keep files.
    fn save(
        &self,
        slug: &Slug,
        post: Post,
        source: &str,
        expected: Expected,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;

    /// Deletes the post at `slug` if it is still at `version`.
    fn delete(
        &self,
        slug: &Slug,
        version: u64,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;
}

/// A presigned upload for a file too large for the API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PresignedUpload {
    /// Where to send it.
    pub url: String,
    /// The method to use (`PUT`).
    pub method: &'static str,
    /// Headers the request must carry exactly (they are signed).
    pub headers: Vec<(String, String)>,
    /// Seconds until the URL stops working.
    pub expires_in: u64,
}

/// Write access to assets.
pub trait AssetWriter: Send + Sync {
    /// Stores an asset at `key` (content-addressed, so a rewrite stores the same bytes).
    fn put(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A URL the author can upload `length` bytes to directly, with the content's
    /// SHA-256 (base64) checked by the store; `None` when the store has no such thing.
    fn presign(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        sha256_base64: &str,
    ) -> impl Future<Output = Result<Option<PresignedUpload>, StoreError>> + Send;

    /// Removes an asset (a set whose writing failed part way); absent is fine.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keeps an upload as sent, where nothing serves it (its metadata may locate the
    /// author): `originals/<key>`.
    fn put_original(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// An upload kept by [`AssetWriter::put_original`] or sent to a presigned URL.
    fn get_original(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Bytes>, StoreError>> + Send;

    /// Every key in `area`, sorted (an export).
    fn keys(&self, area: Area) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// The file at `key` in `area`: a URL to fetch it from when the store has such
    /// a thing (so a large original never passes through the function), else its
    /// bytes; `None` when absent.
    fn fetch(
        &self,
        area: Area,
        key: &str,
    ) -> impl Future<Output = Result<Option<Fetched>, StoreError>> + Send;

    /// Puts a file back at exactly `key` (an import of an export), only where the
    /// key is free or already holds these bytes: a key's bytes never change.
    fn restore(
        &self,
        area: Area,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> impl Future<Output = Result<Restored, StoreError>> + Send;
}

/// The two places files live: what the site serves under `/assets/`, and the
/// uploads as sent, which nothing serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `assets/`.
    Served,
    /// `originals/`.
    Originals,
}

impl Area {
    /// The area's name in paths and keys (`assets`, `originals`).
    pub fn name(self) -> &'static str {
        match self {
            Area::Served => "assets",
            Area::Originals => "originals",
        }
    }

    /// The area a name means.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "assets" => Some(Area::Served),
            "originals" => Some(Area::Originals),
            _ => None,
        }
    }
}

/// Where to get a stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A URL that serves it for a while (presigned).
    Url(String),
    /// The bytes themselves.
    Bytes(Bytes),
}

/// What a restore did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// The key was free: the file is there now.
    Created,
    /// The key held these very bytes already.
    Unchanged,
    /// The key holds other bytes: nothing was written.
    Differs,
}

/// A stored file (image, download), served under `/assets/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// The bytes.
    pub body: Bytes,
    /// Its media type.
    pub content_type: String,
}

/// Read access to assets.
pub trait Assets: Send + Sync {
    /// The asset at `key` (a path below `/assets/`, already checked by [`asset_key`]).
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Asset>, StoreError>> + Send;
}

/// No assets: the read functions' store, because CloudFront serves `/assets/*`
/// straight from the bucket, so they need neither S3 code nor S3 permissions.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAssets;

impl Assets for NoAssets {
    async fn get(&self, _key: &str) -> Result<Option<Asset>, StoreError> {
        Ok(None)
    }
}

/// Checks a path below `/assets/`: non-empty segments of safe characters, no `.`/`..`.
pub fn asset_key(path: &str) -> Option<&str> {
    let ok = !path.is_empty()
        && path.len() <= 512
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && !seg.starts_with('.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    ok.then_some(path)
}

/// Whether an asset key names its content (`name-<16 hex>.ext`, optionally
/// `-<w>x<h>` after the hash, as uploads are named): its bytes never change, so
/// browsers may keep it for a year.
pub fn is_content_addressed(key: &str) -> bool {
    let (dir, file) = key.rsplit_once('/').unwrap_or(("", key));
    let Some((stem, _)) = file.rsplit_once('.') else {
        return false;
    };
    let hash_at_end = |stem: &str| {
        stem.rsplit_once('-').is_some_and(|(_, hash)| {
            hash.len() == 16
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
    };
    let size = |text: &str| {
        text.split_once('x').is_some_and(|(w, h)| {
            [w, h]
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    // A processed set: `<stem>-<hash>/<w>x<h>.<ext>`.
    let set_dir = dir.rsplit('/').next().unwrap_or(dir);
    if hash_at_end(set_dir) && size(stem) {
        return true;
    }
    hash_at_end(stem)
        || stem
            .rsplit_once('-')
            .is_some_and(|(rest, dims)| size(dims) && hash_at_end(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_numbered_from_the_newest() {
        let at = |newer, total| Listing {
            posts: Vec::new(),
            more: false,
            newer,
            total,
        };
        assert_eq!(at(0, 0).page_of(10), (1, 1));
        assert_eq!(at(0, 25).page_of(10), (1, 3));
        assert_eq!(at(10, 25).page_of(10), (2, 3));
        assert_eq!(at(20, 25).page_of(10), (3, 3));
        // Paged back from the end, a page may start mid-way: it counts as the next.
        assert_eq!(at(5, 25).page_of(10), (2, 3));
        assert_eq!(at(24, 25).page_of(10), (3, 3));
    }

    #[test]
    fn content_addressed_keys() {
        assert!(is_content_addressed("a-0123456789abcdef.png"));
        assert!(is_content_addressed("a-0123456789abcdef-640x480.png"));
        assert!(is_content_addressed("dir/a-0123456789abcdef-1x1.svg"));
        assert!(is_content_addressed("a-0123456789abcdef/960x720.avif"));
        assert!(!is_content_addressed("a-0123456789abcdef/cover.avif"));
        assert!(!is_content_addressed("photos/960x720.avif"));
        assert!(!is_content_addressed("architecture.svg"));
        assert!(!is_content_addressed("a-0123456789abcdeg.png"));
        assert!(!is_content_addressed("a-0123456789abcdef-640x.png"));
        assert!(!is_content_addressed("a-0123456789abcdef"));
    }

    #[test]
    fn asset_keys_refuse_traversal_and_odd_names() {
        for ok in ["a.png", "img/2024/a-b_c.jpg"] {
            assert_eq!(asset_key(ok), Some(ok));
        }
        for bad in [
            "", "../x", "a/../b", "a//b", "/a", ".env", "a/.git/x", "a b.png", "a%2e%2e", "a\\b",
        ] {
            assert_eq!(asset_key(bad), None, "{bad}");
        }
    }
}
