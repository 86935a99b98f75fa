//! `blog export DIR`: everything a site holds, from any store, as files: every
//! post (drafts and scheduled ones included) as Markdown with its front matter,
//! every file the site serves, and every original upload. `blog import DIR` puts
//! it back as it was: the same keys, so the same pages, byte for byte.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::json;

use super::api::{Api, Body};
use crate::cli::ExportArgs;

/// The file that marks a folder as an export, and its format.
pub const MANIFEST: &str = "blog-export.json";
/// The manifest's `format`.
pub const FORMAT: &str = "blog-export/1";

/// Runs the export.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    // Into an earlier export, files deleted since would linger and come back.
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        bail!("{} is not empty: name a new or empty folder", dir.display());
    }
    let api = Api::new(&args.remote)?;
    let slugs = api.slugs()?;
    let files = api.call("GET", "/api/assets", Body::None, None)?;
    if files.status != 200 {
        bail!("listing the site's files: {}", files.message());
    }
    let keys = |area: &str| -> Vec<String> {
        files.body[area]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect()
    };
    let (assets, originals) = (keys("assets"), keys("originals"));
    let bar = super::bulk::progress(slugs.len() + assets.len() + originals.len());
    for slug in &slugs {
        bar.set_message(slug.clone());
        let post = api.call("GET", &format!("/api/posts/{slug}"), Body::None, None)?;
        let source = post.body["source"].as_str();
        let Some(source) = source.filter(|_| post.status == 200) else {
            bail!("reading {slug}: {}", post.message());
        };
        write(
            &dir.join("posts").join(format!("{slug}.md")),
            source.as_bytes(),
        )?;
        bar.inc(1);
    }
    for (area, list) in [("assets", &assets), ("originals", &originals)] {
        for key in list {
            let target = file_path(dir, area, key)?;
            bar.set_message(format!("{area}/{key}"));
            // Keys are letters, digits, '-', '_', '.' and '/' (`asset_key`): URL-safe.
            let path = format!("/api/assets/files/{area}/{key}");
            let reply = api.call("GET", &path, Body::None, None)?;
            if reply.status != 200 {
                bail!("reading {area}/{key}: {}", reply.message());
            }
            let bytes = api
                .download(&reply.body)
                .with_context(|| format!("reading {area}/{key}"))?;
            write(&target, &bytes)?;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let manifest = json!({
        "format": FORMAT,
        "site": api.site_url("/"),
        "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "posts": slugs.len(),
        "assets": assets.len(),
        "originals": originals.len(),
    });
    write(
        &dir.join(MANIFEST),
        format!("{}\n", serde_json::to_string_pretty(&manifest)?).as_bytes(),
    )?;
    println!(
        "exported {} post(s), {} served file(s) and {} original(s) to {}",
        slugs.len(),
        assets.len(),
        originals.len(),
        dir.display()
    );
    Ok(())
}

/// Where a key goes in the folder; a key that would leave it is refused.
fn file_path(dir: &Path, area: &str, key: &str) -> anyhow::Result<PathBuf> {
    if blog_core::store::asset_key(key).is_none() {
        bail!("the site listed the key {key:?}, which is not a safe file name");
    }
    Ok(key.split('/').fold(dir.join(area), |p, s| p.join(s)))
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
