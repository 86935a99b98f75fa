//! Which public URLs a write changed: the invalidation batch. Computed from the
//! post before and after the write and the neighbours whose links moved, so a
//! typo fix in a body invalidates that post and the feeds, not the whole site.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::post::{post_path, Neighbour, Post, Tag};
use crate::urls::canonical_path;

/// The paths to invalidate, sorted. Listing pages are given as the page plus a
/// `?*` wildcard for its older pages (`?before=`/`?after=`, the only query keys the
/// CDN caches on); an invalidation wildcard must come last, and counts as one path.
pub fn changed(
    before: Option<&Post>,
    after: Option<&Post>,
    relinked: &[Neighbour],
    now: DateTime<Utc>,
) -> Vec<String> {
    let before = before.filter(|p| p.is_public(now));
    let after = after.filter(|p| p.is_public(now));
    let mut paths = BTreeSet::new();
    if before.is_none() && after.is_none() {
        return Vec::new();
    }
    // The post's own page, its old URL when renamed, and its aliases (301s).
    for p in before.iter().chain(after.iter()) {
        paths.insert(p.path());
        // In their one encoded spelling: a post stored by an older version may hold
        // an alias with a quote or a bracket, which must not reach the CDN raw.
        paths.extend(p.aliases.iter().filter_map(|a| canonical_path(a).ok()));
    }
    let tags: BTreeSet<&Tag> = before
        .iter()
        .chain(after.iter())
        .flat_map(|p| p.tags.iter())
        .collect();
    let listing = |p: Option<&Post>| p.map(Post::summary);
    if listing(before) != listing(after) {
        paths.insert("/".to_owned());
        paths.insert("/?*".to_owned());
        paths.insert("/archive/".to_owned());
        for t in &tags {
            paths.insert(t.path());
            paths.insert(format!("{}?*", t.path()));
        }
    }
    let html = |p: Option<&Post>| p.map(|p| p.html.clone());
    if listing(before) != listing(after) || html(before) != html(after) {
        paths.extend(["/feed.xml".to_owned(), "/rss.xml".to_owned()]);
        for t in &tags {
            paths.insert(format!("{}feed.xml", t.path()));
        }
    }
    let tag_set = |p: Option<&Post>| p.map(|p| p.tags.iter().cloned().collect::<BTreeSet<Tag>>());
    if tag_set(before) != tag_set(after) {
        paths.insert("/tags/".to_owned());
    }
    let sitemap = |p: Option<&Post>| p.map(|p| (p.slug.clone(), p.date, p.updated, p.tags.clone()));
    if sitemap(before) != sitemap(after) {
        paths.insert("/sitemap.xml".to_owned());
    }
    for n in relinked {
        if n.date <= now {
            paths.insert(post_path(&n.slug));
        }
    }
    paths.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authoring::compile;

    fn post(src: &str) -> Post {
        compile(src, None).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2025-01-01T00:00:00Z".parse().unwrap()
    }

    const A: &str = "---\ntitle: A\ndate: 2024-01-01\ntags: [rust, web dev]\n---\nBody.\n";

    #[test]
    fn a_new_post_touches_its_page_listings_tags_feeds_and_neighbours() {
        let n = Neighbour::of(&post("---\ntitle: Older\ndate: 2023-01-01\n---\nx\n"));
        let paths = changed(None, Some(&post(A)), &[n], now());
        assert_eq!(
            paths,
            [
                "/",
                "/?*",
                "/archive/",
                "/feed.xml",
                "/posts/a/",
                "/posts/older/",
                "/rss.xml",
                "/sitemap.xml",
                "/tags/",
                "/tags/rust/",
                "/tags/rust/?*",
                "/tags/rust/feed.xml",
                "/tags/web%20dev/",
                "/tags/web%20dev/?*",
                "/tags/web%20dev/feed.xml",
            ]
        );
    }

    #[test]
    fn a_body_edit_touches_the_page_and_feeds_only() {
        let edited = post(&A.replace("Body.", "Body.\n\nMore below the fold."));
        let paths = changed(Some(&post(A)), Some(&edited), &[], now());
        assert_eq!(
            paths,
            [
                "/feed.xml",
                "/posts/a/",
                "/rss.xml",
                "/tags/rust/feed.xml",
                "/tags/web%20dev/feed.xml"
            ]
        );
    }

    #[test]
    fn retagging_and_renaming_touch_old_and_new() {
        let renamed = post(
            "---\ntitle: A\nslug: b\ndate: 2024-01-01\ntags: [go]\naliases: [/posts/a/]\n---\nBody.\n",
        );
        let paths = changed(Some(&post(A)), Some(&renamed), &[], now());
        for p in [
            "/posts/a/",
            "/posts/b/",
            "/tags/",
            "/tags/rust/",
            "/tags/go/",
            "/tags/go/feed.xml",
            "/sitemap.xml",
        ] {
            assert!(paths.contains(&p.to_owned()), "{p} in {paths:?}");
        }
    }

    #[test]
    fn drafts_and_scheduled_posts_change_nothing_public() {
        let draft = post(&A.replace("date:", "draft: true\ndate:"));
        assert!(changed(None, Some(&draft), &[], now()).is_empty());
        let later = post(&A.replace("2024-01-01", "2030-01-01"));
        assert!(changed(None, Some(&later), &[], now()).is_empty());
        // Unpublishing is a change: the page and listings must drop it.
        assert!(changed(Some(&post(A)), Some(&draft), &[], now()).contains(&"/posts/a/".to_owned()));
    }
}
