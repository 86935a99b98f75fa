//! The write path, the same on both stores: one sequence of publishes (create,
//! move, retitle, rename, unpublish, delete, publish a draft) through the publish
//! API over the filesystem store and over DynamoDB + S3 on moto. After every step
//! both stores must hold equal posts, with neighbour links equal to a from-scratch
//! linking, and both must report the same invalidation paths. Then the DynamoDB
//! conditions: a stale or duplicate write is refused and leaves items byte-identical.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use blog_core::post::Slug;
use blog_core::store::dynamo::DynamoPosts;
use blog_core::store::fs::FsStore;
use blog_core::store::s3::S3Assets;
use blog_core::store::{Expected, PostWriter, Posts};
use blog_core::{App, Config};
use blog_e2e::api::{self, Answer};
use blog_e2e::{fixtures, moto};

type FsApp = App<FsStore, FsStore>;
type AwsApp = App<DynamoPosts, S3Assets>;

struct Both {
    fs: FsApp,
    aws: AwsApp,
    table: String,
    _dir: tempfile::TempDir,
}

/// A new post that lists another post's live page among its aliases: the error.
async fn claim_page<P: PostWriter>(store: &P) -> String {
    let mut post = blog_core::authoring::compile(NEW, None).unwrap();
    post.aliases.push("/posts/hello-world/".into());
    store
        .save(&post.slug.clone(), post, "", Expected::Absent)
        .await
        .unwrap_err()
        .to_string()
}

async fn both() -> Both {
    let dir = fixtures::content_dir();
    let (posts, assets, table, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let store = FsStore::open(dir.path()).unwrap();
    Both {
        fs: App::one_store(Config::for_test(), store).unwrap(),
        aws: App::new(Config::for_test(), posts, assets).unwrap(),
        table,
        _dir: dir,
    }
}

/// Every post in both stores must be equal, links included.
async fn assert_same(b: &Both, step: &str) {
    let fs_index = b.fs.posts.index().await.unwrap();
    let aws_index = b.aws.posts.index().await.unwrap();
    assert_eq!(fs_index, aws_index, "{step}: index");
    for entry in &fs_index {
        let f = Posts::get(&*b.fs.posts, &entry.slug)
            .await
            .unwrap()
            .unwrap();
        let a = Posts::get(&*b.aws.posts, &entry.slug)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(f, a, "{step}: post {}", entry.slug);
    }
}

const NEW: &str = "---\ntitle: Fresh\ndate: 2026-05-15\ntags: [rust, fresh]\n---\nA fresh post.\n";

/// One publish, as the author would send it.
enum Op<'a> {
    Create(&'a str),
    Update(&'a str, &'a str),
    Delete(&'a str),
}

async fn apply<P, A>(app: &App<P, A>, op: &Op<'_>) -> Answer
where
    P: Posts + PostWriter + blog_core::cdn::outbox::Outbox + blog_core::rerender::RenderLedger,
    A: blog_core::store::AssetWriter,
{
    let p = api::publisher();
    match op {
        Op::Create(src) => api::create(app, &p, src).await,
        Op::Update(slug, src) => api::update(app, &p, slug, src).await,
        Op::Delete(slug) => api::delete(app, &p, slug).await,
    }
}

/// Applies `op` to both stores; both must answer `expect`, report the same
/// invalidation, and end up with equal posts.
async fn step(b: &Both, name: &str, expect: u16, op: Op<'_>) -> Vec<String> {
    let on_fs = apply(&b.fs, &op).await;
    let on_aws = apply(&b.aws, &op).await;
    assert_eq!(on_fs.status, expect, "{name} on fs: {}", on_fs.json);
    assert_eq!(on_aws.status, expect, "{name} on DynamoDB: {}", on_aws.json);
    assert_eq!(
        on_fs.paths(),
        on_aws.paths(),
        "{name}: invalidations differ"
    );
    assert_same(b, name).await;
    on_fs.paths()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_publishes_give_the_same_site_on_both_stores() {
    let b = both().await;
    assert_same(&b, "seeded").await;
    let has = |paths: &[String], p: &str| paths.iter().any(|x| x == p);

    let paths = step(&b, "create", 201, Op::Create(NEW)).await;
    assert!(
        has(&paths, "/posts/fresh/") && has(&paths, "/tags/fresh/"),
        "{paths:?}"
    );
    // Landing between two posts relinks both of them.
    let others = paths
        .iter()
        .filter(|p| p.starts_with("/posts/") && *p != "/posts/fresh/")
        .count();
    assert_eq!(others, 2, "{paths:?}");

    let moved = NEW
        .replace("2026-05-15", "2026-07-01")
        .replace("Fresh", "Fresher");
    step(&b, "move and retitle", 200, Op::Update("fresh", &moved)).await;

    let renamed = moved.replace("title:", "slug: freshest\ntitle:");
    let paths = step(&b, "rename", 200, Op::Update("fresh", &renamed)).await;
    assert!(
        has(&paths, "/posts/fresh/") && has(&paths, "/posts/freshest/"),
        "{paths:?}"
    );
    for alias in [
        b.fs.posts.alias("/posts/fresh/").await.unwrap(),
        b.aws.posts.alias("/posts/fresh/").await.unwrap(),
    ] {
        assert_eq!(alias.unwrap().as_str(), "freshest");
    }

    let hello =
        std::fs::read_to_string(blog_e2e::workspace().join("content/hello-world.md")).unwrap();
    let unpublished = hello.replacen("---\n", "---\ndraft: true\n", 1);
    step(
        &b,
        "unpublish",
        200,
        Op::Update("hello-world", &unpublished),
    )
    .await;
    step(&b, "republish", 200, Op::Update("hello-world", &hello)).await;

    let paths = step(&b, "delete", 200, Op::Delete("freshest")).await;
    assert!(
        has(&paths, "/posts/freshest/") && has(&paths, "/"),
        "{paths:?}"
    );

    let draft = "---\ntitle: Quiet\ndate: 2026-01-01\ndraft: true\n---\nShh.\n";
    let paths = step(&b, "create a draft", 201, Op::Create(draft)).await;
    assert!(
        paths.is_empty(),
        "a draft changes no public page: {paths:?}"
    );
    let published = draft.replace("draft: true\n", "");
    let paths = step(
        &b,
        "publish the draft",
        200,
        Op::Update("quiet", &published),
    )
    .await;
    assert!(has(&paths, "/posts/quiet/"), "{paths:?}");
}

async fn raw_items(b: &Both) -> Vec<HashMap<String, AttributeValue>> {
    let sdk = moto::sdk_config(moto::endpoint()).await;
    let out = blog_core::aws::dynamodb(&sdk)
        .scan()
        .table_name(&b.table)
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let mut items = out.items.unwrap_or_default();
    items.sort_by_key(|i| format!("{:?}{:?}", i.get("pk"), i.get("sk")));
    items
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dynamodb_write_carries_its_condition() {
    let b = both().await;
    let store = &*b.aws.posts;
    let slug = Slug::parse("hello-world").unwrap();
    let current = store.current(&slug).await.unwrap().unwrap();
    let before = raw_items(&b).await;

    // Stale update, duplicate create, stale delete, alias theft: all refused, nothing changes.
    let mut edited = current.post.clone();
    edited.title = "Lost update".into();
    let stale = store
        .save(
            &slug,
            edited.clone(),
            "",
            Expected::Version(current.version + 7),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(stale, blog_core::error::StoreError::Stale(_)),
        "{stale}"
    );
    let dup = store
        .save(&slug, edited.clone(), "", Expected::Absent)
        .await
        .unwrap_err();
    assert!(
        matches!(dup, blog_core::error::StoreError::Conflict(_)),
        "{dup}"
    );
    let gone = store.delete(&slug, current.version + 1).await.unwrap_err();
    assert!(
        matches!(gone, blog_core::error::StoreError::Stale(_)),
        "{gone}"
    );
    let mut thief = blog_core::authoring::compile(NEW, None).unwrap();
    thief.aliases.push("/2019/old-name.html".into());
    let stolen = store
        .save(&thief.slug.clone(), thief, "", Expected::Absent)
        .await
        .unwrap_err();
    assert!(
        matches!(stolen, blog_core::error::StoreError::Conflict(_)),
        "{stolen:?}"
    );
    // An alias naming another post's live page: refused in both stores.
    for err in [
        claim_page(&*b.aws.posts).await,
        claim_page(&*b.fs.posts).await,
    ] {
        assert!(
            err.contains("is the page of the post \"hello-world\""),
            "{err}"
        );
    }
    assert_eq!(
        raw_items(&b).await,
        before,
        "a refused write changed the table"
    );

    // A write at the right version lands and bumps it.
    let ok = store
        .save(&slug, edited, "", Expected::Version(current.version))
        .await
        .unwrap();
    assert_eq!(ok.after.unwrap().version, current.version + 1);
    // The version it replaced is now stale.
    let again = store
        .save(
            &slug,
            current.post.clone(),
            "",
            Expected::Version(current.version),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(again, blog_core::error::StoreError::Stale(_)),
        "{again}"
    );
}
