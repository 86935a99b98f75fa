//! The content model: posts as stored (rendered once, at publish) and the small
//! value types they are made of. No parsing of Markdown happens here.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// Longest slug accepted, in bytes; slugs end up in URLs and DynamoDB keys.
pub const MAX_SLUG_LEN: usize = 100;

/// A post's URL name: lowercase ASCII letters, digits and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Validates a slug; the error says which rule was broken.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let problem = if s.is_empty() {
            Some("must not be empty".to_owned())
        } else if s.len() > MAX_SLUG_LEN {
            Some(format!(
                "is {} bytes long; the limit is {MAX_SLUG_LEN}",
                s.len()
            ))
        } else if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            Some(format!(
                "must use only a-z, 0-9 and '-', got \"{}\"",
                s.escape_default()
            ))
        } else if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            Some(format!(
                "must not start or end with '-' or repeat it, got \"{s}\""
            ))
        } else {
            None
        };
        match problem {
            Some(message) => Err(InputError::field("slug", None, message)),
            None => Ok(Self(s.to_owned())),
        }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Slug {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}

/// A tag, normalised so that "Rust", " rust " and "RUST" are one tag:
/// trimmed, lowercased, inner whitespace collapsed to one space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

/// Longest tag accepted, in characters.
pub const MAX_TAG_LEN: usize = 50;

impl Tag {
    /// Normalises and validates a tag name.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let normal = s
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if normal.is_empty() {
            return Err(InputError::field(
                "tags",
                None,
                "must not contain an empty tag",
            ));
        }
        if normal.chars().count() > MAX_TAG_LEN {
            return Err(InputError::field(
                "tags",
                None,
                format!("tag \"{normal}\" is longer than {MAX_TAG_LEN} characters"),
            ));
        }
        if normal.chars().any(|c| c == '/' || c.is_control()) {
            return Err(InputError::field(
                "tags",
                None,
                format!(
                    "tag \"{}\" must not contain '/' or control characters",
                    normal.escape_default()
                ),
            ));
        }
        Ok(Self(normal))
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Site-relative URL of the tag's page, percent-encoded.
    pub fn path(&self) -> String {
        format!("/tags/{}/", crate::urls::encode_segment(&self.0))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Tag {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Tag> for String {
    fn from(t: Tag) -> Self {
        t.0
    }
}

/// Earliest and latest year a post date may have.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A date a post can carry: years 0001 to 9999, both in its own offset and in UTC.
/// That is what RFC 3339, RFC 2822 (feeds) and the four-digit sort key can all
/// represent, so a value of this type can never make a page fail to format it. It is
/// checked when built and when read back from storage (serde goes through
/// `try_from`): an item written by hand or by an older version that breaks the rule is
/// refused as corrupt, costing its pages a logged 5xx instead of a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "DateTime<FixedOffset>", into = "DateTime<FixedOffset>")]
pub struct PostDate(DateTime<FixedOffset>);

impl PostDate {
    /// Checks the year range; the error says the range.
    pub fn new(d: DateTime<FixedOffset>) -> Result<Self, String> {
        let utc = d.with_timezone(&Utc);
        if YEARS.contains(&d.year()) && YEARS.contains(&utc.year()) {
            Ok(Self(d))
        } else {
            Err(format!(
                "must be between the years {:04} and {} (in UTC too), got {}",
                YEARS.start(),
                YEARS.end(),
                d.to_rfc3339()
            ))
        }
    }

    /// The date with its offset.
    pub fn get(self) -> DateTime<FixedOffset> {
        self.0
    }

    /// The same instant in UTC.
    pub fn utc(self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }

    /// `2024-05-01T09:30:00+02:00`.
    pub fn rfc3339(self) -> String {
        self.0.to_rfc3339()
    }

    /// `Wed, 1 May 2024 09:30:00 +0200`, for RSS. chrono panics outside years 0 to
    /// 9999; the type rules that out.
    pub fn rfc2822(self) -> String {
        self.0.to_rfc2822()
    }
}

impl std::str::FromStr for PostDate {
    type Err = String;
    /// Parses RFC 3339 (`2024-05-01T09:30:00+02:00`) and checks the range.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("must be an RFC 3339 date such as 2024-05-01T09:30:00Z ({e})"))?;
        Self::new(d)
    }
}

impl TryFrom<DateTime<FixedOffset>> for PostDate {
    type Error = String;
    fn try_from(d: DateTime<FixedOffset>) -> Result<Self, Self::Error> {
        Self::new(d)
    }
}

impl From<PostDate> for DateTime<FixedOffset> {
    fn from(d: PostDate) -> Self {
        d.0
    }
}

impl PartialEq<DateTime<Utc>> for PostDate {
    fn eq(&self, other: &DateTime<Utc>) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<DateTime<Utc>> for PostDate {
    fn partial_cmp(&self, other: &DateTime<Utc>) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

/// One heading in a post's table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TocEntry {
    /// Heading level, 2 to 6 (h1 is the post title).
    pub level: u8,
    /// The heading's `id` attribute.
    pub id: String,
    /// The heading's text.
    pub title: String,
}

/// A post as stored: front matter fields plus the HTML rendered at publish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// URL name, unique.
    pub slug: Slug,
    /// Title, plain text.
    pub title: String,
    /// Publication date; a post dated in the future stays hidden until then.
    pub date: PostDate,
    /// Date of the last meaningful edit, if the author gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<PostDate>,
    /// Drafts are never shown.
    pub draft: bool,
    /// Normalised tags, in the author's order, without duplicates.
    pub tags: Vec<Tag>,
    /// Plain-text description for meta tags and listings.
    pub description: String,
    /// Old site-relative paths that redirect here with 301.
    pub aliases: Vec<String>,
    /// Social card image URL (absolute, or site-relative starting with '/').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The Markdown body as written (front matter removed).
    pub markdown: String,
    /// The body rendered to safe HTML.
    pub html: String,
    /// HTML for listings: the part above `<!-- more -->`, or the first paragraph.
    pub summary_html: String,
    /// Headings of level 2 and below, in order.
    pub toc: Vec<TocEntry>,
    /// Estimated reading time in whole minutes, at least 1.
    pub reading_minutes: u32,
    /// The next older non-draft post, kept with the post so a page view stays one read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Neighbour>,
    /// The next newer non-draft post (may be scheduled: shown only once it is public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Neighbour>,
}

/// A post's older or newer neighbour, as the post page links to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighbour {
    /// URL name.
    pub slug: Slug,
    /// Title.
    pub title: String,
    /// Publication date, to hide a neighbour that is not public yet.
    pub date: PostDate,
}

impl Neighbour {
    /// The neighbour link for `post`.
    pub fn of(post: &Post) -> Self {
        Self {
            slug: post.slug.clone(),
            title: post.title.clone(),
            date: post.date,
        }
    }
}

/// What a listing (home, tag page) shows of a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostSummary {
    /// URL name.
    pub slug: Slug,
    /// Title.
    pub title: String,
    /// Publication date.
    pub date: PostDate,
    /// Last edit date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<PostDate>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Plain-text description.
    pub description: String,
    /// Summary HTML.
    pub summary_html: String,
    /// Reading time in minutes.
    pub reading_minutes: u32,
}

impl Post {
    /// Whether visitors may see the post at `now`: not a draft, and not dated later.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        !self.draft && self.date <= now
    }

    /// Site-relative URL of the post.
    pub fn path(&self) -> String {
        post_path(&self.slug)
    }

    /// The key listings sort on (newest first), also the pagination cursor.
    pub fn sort_key(&self) -> SortKey {
        SortKey::new(self.date, &self.slug)
    }

    /// Whether two posts say the same thing, ignoring their neighbour links (which
    /// move when other posts are written).
    pub fn same_content(&self, other: &Post) -> bool {
        let unlink = |p: &Post| Post {
            previous: None,
            next: None,
            ..p.clone()
        };
        unlink(self) == unlink(other)
    }

    /// The listing view of this post.
    pub fn summary(&self) -> PostSummary {
        PostSummary {
            slug: self.slug.clone(),
            title: self.title.clone(),
            date: self.date,
            updated: self.updated,
            tags: self.tags.clone(),
            description: self.description.clone(),
            summary_html: self.summary_html.clone(),
            reading_minutes: self.reading_minutes,
        }
    }
}

impl PostSummary {
    /// The key listings sort on.
    pub fn sort_key(&self) -> SortKey {
        SortKey::new(self.date, &self.slug)
    }
}

/// Sets every non-draft post's `previous` (older) and `next` (newer) neighbour by
/// date; drafts get none. Scheduled posts take part: the page hides a `next` that
/// is not public yet.
pub fn link_neighbours(posts: &mut [Post]) {
    let mut order: Vec<(SortKey, usize)> = posts
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.draft)
        .map(|(i, p)| (p.sort_key(), i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0));
    let links: Vec<(usize, Option<Neighbour>, Option<Neighbour>)> = order
        .iter()
        .enumerate()
        .map(|(rank, (_, i))| {
            let next = rank
                .checked_sub(1)
                .map(|r| Neighbour::of(&posts[order[r].1]));
            let previous = order.get(rank + 1).map(|(_, j)| Neighbour::of(&posts[*j]));
            (*i, previous, next)
        })
        .collect();
    for post in posts.iter_mut() {
        post.previous = None;
        post.next = None;
    }
    for (i, previous, next) in links {
        posts[i].previous = previous;
        posts[i].next = next;
    }
}

/// A post in a feed: what a listing shows plus the full HTML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedEntry {
    /// Listing fields.
    #[serde(flatten)]
    pub summary: PostSummary,
    /// The rendered body.
    pub html: String,
}

impl From<&Post> for FeedEntry {
    fn from(p: &Post) -> Self {
        Self {
            summary: p.summary(),
            html: p.html.clone(),
        }
    }
}

/// Site-relative URL of a post.
pub fn post_path(slug: &Slug) -> String {
    format!("/posts/{slug}/")
}

/// Listing order and cursor: UTC time to the second, then slug, as
/// `2024-05-01T09:30:00Z#my-post`. Sorts correctly as a string, so DynamoDB can use it
/// as a sort key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SortKey(String);

impl SortKey {
    /// The key of a post with this date and slug.
    pub fn new(date: PostDate, slug: &Slug) -> Self {
        Self(format!("{}#{slug}", utc_key(date.utc())))
    }

    /// The key just after every post dated `now` or earlier: listings stop there.
    pub fn upper_bound(now: DateTime<Utc>) -> Self {
        // '$' sorts after '#', so every "<now>#slug" is below "<now>$".
        Self(format!("{}$", utc_key(now)))
    }

    /// Parses a cursor from a URL; `None` when it is not a key this code wrote.
    pub fn parse(s: &str) -> Option<Self> {
        let (time, slug) = s.split_once('#')?;
        DateTime::parse_from_rfc3339(time).ok()?;
        Slug::parse(slug).ok()?;
        (time.len() == 20 && time.ends_with('Z')).then(|| Self(s.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn utc_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_url_rules() {
        for ok in ["a", "hello-world", "2024-recap", "x1"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Hello",
            "a b",
            "-a",
            "a-",
            "a--b",
            "a/b",
            "../x",
            "é",
            &"a".repeat(101),
        ] {
            let err = Slug::parse(bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("slug"), "{bad}");
        }
    }

    #[test]
    fn tags_are_normalised() {
        assert_eq!(Tag::parse("  Rust   Lang ").unwrap().as_str(), "rust lang");
        assert_eq!(Tag::parse("Ünïcode").unwrap().as_str(), "ünïcode");
        assert_eq!(Tag::parse("web dev").unwrap().path(), "/tags/web%20dev/");
        assert!(Tag::parse("  ").is_err());
        assert!(Tag::parse("a/b").is_err());
    }

    #[test]
    fn sort_keys_order_by_time_then_slug_and_round_trip() {
        let d = |s: &str| s.parse::<PostDate>().unwrap();
        let a = SortKey::new(d("2024-01-01T10:00:00+02:00"), &Slug::parse("a").unwrap());
        let b = SortKey::new(d("2024-01-01T09:00:00Z"), &Slug::parse("a").unwrap());
        assert_eq!(a.as_str(), "2024-01-01T08:00:00Z#a");
        assert!(a < b);
        assert_eq!(SortKey::parse(a.as_str()), Some(a.clone()));
        assert!(SortKey::parse("2024-01-01#a").is_none());
        assert!(SortKey::parse("2024-01-01T08:00:00Z#A B").is_none());
        let now = d("2024-01-01T08:00:00Z").utc();
        assert!(a < SortKey::upper_bound(now));
        assert!(b > SortKey::upper_bound(now));
    }
}
