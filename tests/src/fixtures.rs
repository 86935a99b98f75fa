//! The same posts in every store: the sample content plus posts that exercise
//! drafts, scheduling, aliases and pagination, as files for the filesystem store
//! and seeded through the store's own write path into DynamoDB and S3.

use std::path::Path;

use blog_core::authoring;
use blog_core::post::Post;
use blog_core::store::dynamo::{self, DynamoPosts};
use blog_core::store::s3::S3Assets;
use blog_core::store::{Expected, PostWriter};
use blog_test_support::content::copy_dir;
use tempfile::TempDir;

/// Posts added to the sample content.
pub const EXTRA: &[(&str, &str)] = &[
    ("renamed.md", "---\ntitle: Renamed post\ndate: 2026-06-01\naliases: [/2019/old-name.html]\ntags: [Web Dev, rust]\n---\nMoved here.\n"),
    ("Old_File_Name.md", "title: Flask named file\ndate: 2026-05-01\npublished: yes\n\nFrom Flask.\n"),
];

/// A folder with the sample content and [`EXTRA`].
pub fn content_dir() -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_dir(&crate::workspace().join("content"), dir.path());
    for (name, text) in EXTRA {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// Every post in `dir`, compiled as publish does (the writer links neighbours).
pub fn compile_all(dir: &Path) -> Vec<Post> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let stem = p.file_stem().unwrap().to_str().unwrap().to_owned();
            authoring::compile(&text, Some(&stem))
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

/// A fresh table and bucket on moto holding the posts and assets of `dir`.
pub async fn seed_aws(endpoint: &str, dir: &Path) -> (DynamoPosts, S3Assets, String, String) {
    let sdk = crate::moto::sdk_config(endpoint).await;
    let table = crate::unique_name("posts");
    let bucket = crate::unique_name("assets");
    let ddb = blog_core::aws::dynamodb(&sdk);
    dynamo::create_table(&ddb, &table).await.unwrap();
    let s3 = blog_core::aws::s3(&sdk);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let posts = DynamoPosts::new(ddb, &table);
    for post in compile_all(dir) {
        let slug = post.slug.clone();
        posts
            .save(&slug, post, "", Expected::Absent)
            .await
            .unwrap_or_else(|e| panic!("seeding {slug}: {e}"));
    }
    // A seeded site starts as after a deploy: at this build's versions, with
    // nothing queued for the CDN.
    record_versions(&posts).await;
    blog_core::cdn::drain::drain(
        &posts,
        &blog_core::cdn::LogCdn,
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    let assets = S3Assets::new(s3, &bucket);
    let asset_dir = dir.join("assets");
    let files = if asset_dir.is_dir() {
        std::fs::read_dir(asset_dir).unwrap().collect()
    } else {
        Vec::new()
    };
    for entry in files {
        let path = entry.unwrap().path();
        let key = path.file_name().unwrap().to_str().unwrap().to_owned();
        let content_type = blog_core::store::fs::content_type(&path);
        assets
            .put_file(&key, std::fs::read(&path).unwrap(), &content_type)
            .await
            .unwrap();
    }
    (posts, assets, table, bucket)
}

/// Records this build's versions in a table this build wrote, as the deploy that
/// made it would have.
pub async fn record_versions(posts: &DynamoPosts) {
    use blog_core::rerender::{RenderLedger, SiteVersions};
    posts
        .record_versions(None, &SiteVersions::current(), &[], chrono::Utc::now())
        .await
        .unwrap();
}
