//! The content model: posts as stored (rendered once, at publish) and the small
//! value types they are made of. No parsing of Markdown happens here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod date;
mod names;

pub use date::{PostDate, YEARS};
pub use names::{Slug, Tag, MAX_SLUG_LEN, MAX_TAG_LEN};

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
    /// The [`crate::version::RENDERER`] that rendered `html`, `summary_html`, `toc`,
    /// `reading_minutes` (and `description` when it came from the body); empty for
    /// posts stored before versions were recorded.
    #[serde(default)]
    pub renderer: String,
    /// Whether `description` was taken from the body (no `summary` in the front
    /// matter), so a re-render derives it again.
    #[serde(default)]
    pub description_from_body: bool,
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
