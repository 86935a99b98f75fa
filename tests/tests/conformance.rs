//! One conformance suite for the storage traits, run against the filesystem store
//! and against DynamoDB + S3 on moto's server: same fixtures, same expectations,
//! and the two stores must return equal values.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use blog_core::error::StoreError;
use blog_core::post::Post;
use blog_core::post::{Slug, SortKey, Tag};
use blog_core::store::fs::FsStore;
use blog_core::store::{
    Area, AssetWriter, Assets, Cursor, Expected, Fetched, ListQuery, PostWriter, Posts, Restored,
    Written,
};
use blog_e2e::{fixtures, moto};
use bytes::Bytes;
use chrono::Utc;

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

fn tag(s: &str) -> Tag {
    Tag::parse(s).unwrap()
}

fn query(tag: Option<Tag>, cursor: Cursor, limit: usize) -> ListQuery {
    ListQuery {
        tag,
        cursor,
        limit,
        now: Utc::now(),
    }
}

/// The public posts of the fixtures, newest first.
const PUBLIC: [&str; 7] = [
    "cold-starts-in-rust",
    "markdown-showcase",
    "migrating-from-flask",
    "how-this-blog-works",
    "hello-world",
    "renamed",
    "old-file-name",
];

async fn get_and_visibility<P: Posts>(store: &P) {
    let post = store
        .get(&slug("how-this-blog-works"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(post.title, "How this blog works");
    assert!(post.html.contains("<h2 id=\"the-read-path\">"));
    assert_eq!(post.previous.as_ref().unwrap().slug.as_str(), "hello-world");
    assert_eq!(
        post.next.as_ref().unwrap().slug.as_str(),
        "migrating-from-flask"
    );
    assert!(store.get(&slug("no-such-post")).await.unwrap().is_none());
    // Drafts and scheduled posts are stored; the route hides them.
    let draft = store.get(&slug("next-post-ideas")).await.unwrap().unwrap();
    assert!(draft.draft && draft.previous.is_none() && draft.next.is_none());
    let scheduled = store.get(&slug("scheduled-post")).await.unwrap().unwrap();
    assert!(!scheduled.is_public(Utc::now()));
    let newest = store
        .get(&slug("cold-starts-in-rust"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        newest.next.unwrap().slug.as_str(),
        "scheduled-post",
        "the page hides it until its date"
    );
}

async fn listings_page_by_cursor<P: Posts>(store: &P) {
    let first = store.list(&query(None, Cursor::First, 3)).await.unwrap();
    let slugs = |l: &blog_core::store::Listing| {
        l.posts
            .iter()
            .map(|p| p.slug.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(slugs(&first), PUBLIC[..3]);
    assert!(first.more);
    let second = store
        .list(&query(None, Cursor::Before(first.posts[2].sort_key()), 3))
        .await
        .unwrap();
    assert_eq!(slugs(&second), PUBLIC[3..6]);
    assert!(second.more);
    let third = store
        .list(&query(None, Cursor::Before(second.posts[2].sort_key()), 3))
        .await
        .unwrap();
    assert_eq!(slugs(&third), PUBLIC[6..]);
    assert!(!third.more);
    // Where each page stands: "page 3 of 3".
    for (page, newer) in [(&first, 0), (&second, 3), (&third, 6)] {
        assert_eq!((page.newer, page.total), (newer, PUBLIC.len()));
    }
    assert_eq!(third.page_of(3), (3, PUBLIC.len().div_ceil(3)));
    let back = store
        .list(&query(None, Cursor::After(second.posts[0].sort_key()), 3))
        .await
        .unwrap();
    assert_eq!(slugs(&back), PUBLIC[..3], "newer page, newest first");
    assert!(!back.more, "nothing newer than the first page");
    let back = store
        .list(&query(None, Cursor::After(third.posts[0].sort_key()), 3))
        .await
        .unwrap();
    assert_eq!(slugs(&back), PUBLIC[3..6]);
    assert!(back.more);
    // A cursor from the future stops at now: scheduled posts never leak.
    let far = SortKey::parse("2999-01-01T00:00:00Z#x").unwrap();
    let all = store
        .list(&query(None, Cursor::Before(far), 50))
        .await
        .unwrap();
    assert_eq!(slugs(&all), PUBLIC);
    let none = store
        .list(&query(None, Cursor::After(first.posts[0].sort_key()), 3))
        .await
        .unwrap();
    assert!(none.posts.is_empty() && !none.more);
}

async fn tag_listings<P: Posts>(store: &P) {
    let rust = store
        .list(&query(Some(tag("rust")), Cursor::First, 10))
        .await
        .unwrap();
    let slugs: Vec<_> = rust.posts.iter().map(|p| p.slug.to_string()).collect();
    assert_eq!(
        slugs,
        ["cold-starts-in-rust", "how-this-blog-works", "renamed"]
    );
    let page = store
        .list(&query(Some(tag("rust")), Cursor::First, 2))
        .await
        .unwrap();
    assert!(page.more);
    let rest = store
        .list(&query(
            Some(tag("rust")),
            Cursor::Before(page.posts[1].sort_key()),
            2,
        ))
        .await
        .unwrap();
    assert_eq!(rest.posts.len(), 1);
    assert!(!rest.more);
    assert_eq!((rest.newer, rest.total), (2, 3), "counted within the tag");
    assert_eq!(rest.page_of(2), (2, 2));
    let spaced = store
        .list(&query(Some(tag("How To")), Cursor::First, 10))
        .await
        .unwrap();
    assert_eq!(spaced.posts[0].slug.as_str(), "markdown-showcase");
    let unicode = store
        .list(&query(Some(tag("über")), Cursor::First, 10))
        .await
        .unwrap();
    assert_eq!(unicode.posts.len(), 1);
    let meta = store
        .list(&query(Some(tag("meta")), Cursor::First, 10))
        .await
        .unwrap();
    assert_eq!(
        meta.posts.len(),
        1,
        "the draft and the scheduled post are not listed"
    );
    assert!(store
        .list(&query(Some(tag("cooking")), Cursor::First, 10))
        .await
        .unwrap()
        .posts
        .is_empty());
}

async fn feeds_sitemap_tags_aliases<P: Posts>(store: &P) {
    let now = Utc::now();
    let recent = store.recent(None, 3, now).await.unwrap();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[0].summary.slug.as_str(), "cold-starts-in-rust");
    assert!(
        recent[0].html.contains("<h2 id=\"what-still-costs-time\">"),
        "feeds carry full HTML"
    );
    let rust = store.recent(Some(&tag("rust")), 10, now).await.unwrap();
    assert_eq!(rust.len(), 3);
    let all = store.all_public(now).await.unwrap();
    assert_eq!(
        all.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>(),
        PUBLIC
    );
    let tags = store.tags(now).await.unwrap();
    let count = |name: &str| {
        tags.iter()
            .find(|t| t.tag.as_str() == name)
            .map(|t| t.count)
    };
    assert_eq!(count("rust"), Some(3));
    assert_eq!(count("meta"), Some(1));
    assert_eq!(count("web dev"), Some(1));
    let mut sorted = tags.clone();
    sorted.sort_by(|a, b| a.tag.cmp(&b.tag));
    assert_eq!(sorted, tags, "sorted by tag");
    assert_eq!(
        store.alias("/architecture/").await.unwrap(),
        Some(slug("how-this-blog-works"))
    );
    assert_eq!(
        store.alias("/2019/old-name.html").await.unwrap(),
        Some(slug("renamed"))
    );
    assert_eq!(
        store.alias("/posts/Old_File_Name/").await.unwrap(),
        Some(slug("old-file-name"))
    );
    assert_eq!(store.alias("/nope/").await.unwrap(), None);
}

async fn assets_by_key<A: Assets>(store: &A) {
    let svg = store
        .get("architecture-b2e4c7351bdba9ad-640x260.svg")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(svg.body.starts_with(b"<svg"));
    assert!(store.get("missing.png").await.unwrap().is_none());
}

async fn suite<P: Posts, A: Assets>(posts: &P, assets: &A) {
    get_and_visibility(posts).await;
    listings_page_by_cursor(posts).await;
    tag_listings(posts).await;
    feeds_sitemap_tags_aliases(posts).await;
    assets_by_key(assets).await;
}

/// Listing, fetching and putting back files at their keys (an export and its
/// import): a key's bytes are never replaced.
async fn asset_files_list_fetch_and_restore<A: AssetWriter>(store: &A) {
    let served = store.keys(Area::Served).await.unwrap();
    assert_eq!(
        served,
        ["architecture-b2e4c7351bdba9ad-640x260.svg", "diagram.png"],
        "sorted, every file"
    );
    assert!(store.keys(Area::Originals).await.unwrap().is_empty());
    let photo = Bytes::from_static(b"\xff\xd8\xff original photo bytes");
    let key = "walk-0123456789abcdef.jpg";
    for expected in [Restored::Created, Restored::Unchanged] {
        let done = store
            .restore(Area::Originals, key, photo.clone(), "image/jpeg")
            .await
            .unwrap();
        assert_eq!(done, expected);
    }
    let other = Bytes::from_static(b"\xff\xd8\xff other bytes");
    assert_eq!(
        store
            .restore(Area::Originals, key, other, "image/jpeg")
            .await
            .unwrap(),
        Restored::Differs
    );
    let variant = "walk-0123456789abcdef/480x360.jpg";
    store
        .restore(Area::Served, variant, photo.clone(), "image/jpeg")
        .await
        .unwrap();
    assert_eq!(store.keys(Area::Originals).await.unwrap(), [key]);
    assert!(store
        .keys(Area::Served)
        .await
        .unwrap()
        .contains(&variant.to_owned()));
    for (area, key) in [(Area::Originals, key), (Area::Served, variant)] {
        let held = match store.fetch(area, key).await.unwrap().unwrap() {
            Fetched::Bytes(b) => b.to_vec(),
            Fetched::Url(url) => {
                assert!(url.starts_with("http://127.0.0.1:"), "{url}");
                let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
                agent
                    .get(&url)
                    .call()
                    .unwrap()
                    .body_mut()
                    .read_to_vec()
                    .unwrap()
            }
        };
        assert_eq!(held, photo, "{key}: the first bytes, never replaced");
    }
    assert!(store
        .fetch(Area::Originals, "gone-0123456789abcdef.jpg")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn filesystem_asset_files() {
    let dir = fixtures::content_dir();
    let store = FsStore::open(dir.path()).unwrap();
    asset_files_list_fetch_and_restore(&store).await;
}

#[tokio::test]
async fn s3_asset_files() {
    let dir = fixtures::content_dir();
    let (_, assets, _, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    asset_files_list_fetch_and_restore(&assets).await;
}

#[tokio::test]
async fn filesystem_store() {
    let dir = fixtures::content_dir();
    let store = FsStore::open(dir.path()).unwrap();
    suite(&store, &store).await;
}

#[tokio::test]
async fn dynamodb_and_s3_stores() {
    let dir = fixtures::content_dir();
    let (posts, assets, _, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    suite(&posts, &assets).await;
}

#[tokio::test]
async fn both_stores_return_equal_values() {
    let dir = fixtures::content_dir();
    let fs = FsStore::open(dir.path()).unwrap();
    let (dynamo, _, _, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    for post in fixtures::compile_all(dir.path()) {
        assert_eq!(
            Posts::get(&fs, &post.slug).await.unwrap(),
            dynamo.get(&post.slug).await.unwrap(),
            "{}",
            post.slug
        );
    }
    let now = Utc::now();
    for tag in [None, Some(tag("rust")), Some(tag("how to"))] {
        let q = query(tag.clone(), Cursor::First, 4);
        assert_eq!(
            fs.list(&q).await.unwrap(),
            dynamo.list(&q).await.unwrap(),
            "{tag:?}"
        );
        assert_eq!(
            fs.recent(tag.as_ref(), 5, now).await.unwrap(),
            dynamo.recent(tag.as_ref(), 5, now).await.unwrap()
        );
    }
    assert_eq!(
        fs.all_public(now).await.unwrap(),
        dynamo.all_public(now).await.unwrap()
    );
    assert_eq!(fs.tags(now).await.unwrap(), dynamo.tags(now).await.unwrap());
}

async fn raw_item(
    posts_table: &str,
    pk: &str,
    sk: &str,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let sdk = moto::sdk_config(moto::endpoint()).await;
    let client = blog_core::aws::dynamodb(&sdk);
    client
        .get_item()
        .table_name(posts_table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// A create through the one writer.
async fn create<W: PostWriter>(posts: &W, post: Post) -> Result<Written, StoreError> {
    let slug = post.slug.clone();
    posts.save(&slug, post, "", Expected::Absent).await
}

#[tokio::test]
async fn creating_an_existing_slug_is_refused_and_changes_nothing() {
    let dir = fixtures::content_dir();
    let (posts, _, table, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let before = raw_item(&table, "POST#hello-world", "POST").await.unwrap();
    let mut again = posts.get(&slug("hello-world")).await.unwrap().unwrap();
    again.title = "Overwritten".into();
    let err = create(&posts, again.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(
        err.to_string().contains("\"hello-world\" already exists"),
        "{err}"
    );
    assert_eq!(
        raw_item(&table, "POST#hello-world", "POST").await.unwrap(),
        before,
        "byte-identical"
    );
}

#[tokio::test]
async fn a_write_is_all_or_nothing() {
    let dir = fixtures::content_dir();
    let (posts, _, table, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    // A new post that claims another post's alias: the whole transaction fails.
    let mut thief = posts.get(&slug("hello-world")).await.unwrap().unwrap();
    thief.slug = slug("thief");
    thief.aliases = vec!["/architecture/".into()];
    let err = create(&posts, thief.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(
        raw_item(&table, "POST#thief", "POST").await.is_none(),
        "no post item"
    );
    assert!(
        raw_item(&table, "FEED", thief.sort_key().as_str())
            .await
            .is_none(),
        "no feed entry"
    );
    assert_eq!(
        posts.alias("/architecture/").await.unwrap(),
        Some(slug("how-this-blog-works"))
    );
}

#[tokio::test]
async fn an_item_too_large_for_dynamodb_is_refused_with_the_limit() {
    let dir = fixtures::content_dir();
    let (posts, _, table, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let mut big = posts.get(&slug("hello-world")).await.unwrap().unwrap();
    big.slug = slug("big");
    big.html = "x".repeat(450 * 1024);
    let err = create(&posts, big.clone()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::TooLarge { limit: 409_600, .. }),
        "{err}"
    );
    assert!(raw_item(&table, "POST#big", "POST").await.is_none());
}
