//! `blog serve --store dynamo --seed DIR`: fill an emulator's table and bucket
//! from a content folder, through the stores' own write path.

use std::path::Path;

use anyhow::Context;
use blog_core::aws;
use blog_core::error::StoreError;
use blog_core::post::Post;
use blog_core::store::dynamo::{self, DynamoPosts};
use blog_core::store::s3::S3Assets;
use blog_core::store::{Expected, PostWriter};

/// Creates the table and bucket when missing, then writes every valid post through
/// the publish path's writer (existing slugs are left as they are) and every asset.
pub async fn seed(
    sdk: &aws_config::SdkConfig,
    (table, bucket): (&str, &str),
    posts: &DynamoPosts,
    assets: &S3Assets,
    dir: &Path,
    zone: blog_core::frontmatter::Tz,
) -> anyhow::Result<()> {
    match dynamo::create_table(&aws::dynamodb(sdk), table).await {
        Ok(()) => println!("created table {}", table),
        Err(e) if e.to_string().contains("ResourceInUse") => {}
        Err(e) => return Err(e).context("creating the table"),
    }
    let s3 = aws::s3(sdk);
    if s3.head_bucket().bucket(bucket).send().await.is_err() {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .context("creating the bucket")?;
        println!("created bucket {}", bucket);
    }
    let mut loaded: Vec<Post> = Vec::new();
    for path in markdown_files(dir)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let stem = path.file_stem().and_then(|s| s.to_str());
        match blog_core::authoring::compile_in(&text, stem, zone) {
            Ok(post) => loaded.push(post),
            Err(e) => eprintln!("skipped {}", e.in_file(path.display().to_string())),
        }
    }
    let (mut written, mut kept) = (0, 0);
    for post in loaded {
        let slug = post.slug.clone();
        match posts.save(&slug, post, "", Expected::Absent).await {
            Ok(_) => written += 1,
            // Kept only when the post is really there: a conflict can also be an
            // alias another post owns, or a publish that kept losing its race.
            Err(StoreError::Conflict(why)) => match posts.current(&slug).await? {
                Some(_) => kept += 1,
                None => anyhow::bail!("writing {slug}: {why}"),
            },
            Err(e) => return Err(e).with_context(|| format!("writing {slug}")),
        }
    }
    let asset_dir = dir.join("assets");
    let mut uploaded = 0;
    if asset_dir.is_dir() {
        for entry in std::fs::read_dir(&asset_dir)? {
            let path = entry?.path();
            let Some(key) = path
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|_| path.is_file())
            else {
                continue;
            };
            let content_type = blog_core::store::fs::content_type(&path);
            assets
                .put_file(key, std::fs::read(&path)?, &content_type)
                .await
                .with_context(|| format!("uploading {key}"))?;
            uploaded += 1;
        }
    }
    println!(
        "seeded {written} post(s) ({kept} already there) and {uploaded} asset(s) from {}",
        dir.display()
    );
    Ok(())
}

fn markdown_files(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    Ok(files)
}
