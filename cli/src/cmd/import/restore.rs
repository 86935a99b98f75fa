//! `blog import DIR` of a folder `blog export` wrote: every file back at its own
//! key (so posts' `/assets/...` references need no rewriting), then every post
//! from its exported source. Importing an export into an empty site gives the
//! same pages, byte for byte.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::{bail, Context};

use super::super::api::{Api, Body};
use super::super::export::{FORMAT, MANIFEST};
use super::super::publish::{presigned_upload, publish_source};
use crate::cli::ImportArgs;

/// Whether `dir` is a folder `blog export` wrote.
pub fn is_export(dir: &Path) -> bool {
    dir.join(MANIFEST).is_file()
}

/// Restores the export in `args.dir`.
pub fn run(args: &ImportArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(MANIFEST)).context("reading the export's manifest")?,
    )
    .with_context(|| format!("{MANIFEST} is not JSON"))?;
    if manifest["format"].as_str() != Some(FORMAT) {
        bail!(
            "{MANIFEST} says format {}; this blog reads {FORMAT}",
            manifest["format"]
        );
    }
    println!(
        "restoring the export of {} made at {}",
        manifest["site"].as_str().unwrap_or("?"),
        manifest["exported_at"].as_str().unwrap_or("?")
    );
    if args.infer || !args.old_urls.is_empty() || args.engine.is_some() {
        println!(
            "(--infer, --old-urls and --engine are for another engine's folder: an export is put back as it was)"
        );
    }
    let mut files = Vec::new();
    for area in ["assets", "originals"] {
        let folder = dir.join(area);
        let keys = blog_core::store::fs::files_below(&folder)
            .with_context(|| format!("reading {}", folder.display()))?;
        files.extend(keys.into_iter().map(|k| (area, k)));
    }
    let folder = dir.join("posts");
    let posts = blog_core::store::fs::files_below(&folder)
        .with_context(|| format!("reading {}", folder.display()))?;
    if args.dry_run {
        for (area, key) in &files {
            println!("put back /{area}/{key}");
        }
        for p in &posts {
            println!("publish posts/{p}");
        }
        println!(
            "dry run, nothing sent: {} file(s) and {} post(s) to put back",
            files.len(),
            posts.len()
        );
        return Ok(());
    }
    let api = Api::new(&args.remote)?;
    let bar = super::super::bulk::progress(files.len() + posts.len());
    let hold = api.hold_invalidations()?;
    let mut failures = Vec::new();
    let mut restored = BTreeMap::<String, usize>::new();
    for (area, key) in &files {
        if let Some(h) = &hold {
            h.keep();
        }
        bar.set_message(format!("{area}/{key}"));
        match put_back(&api, dir, area, key) {
            Ok(status) => *restored.entry(status).or_default() += 1,
            Err(e) => failures.push((format!("{area}/{key}"), format!("{e:#}"))),
        }
        bar.inc(1);
    }
    let listed: HashSet<String> = api.slugs()?.into_iter().collect();
    let mut published = BTreeMap::<String, usize>::new();
    for name in &posts {
        if let Some(h) = &hold {
            h.keep();
        }
        bar.set_message(name.clone());
        let path = dir.join("posts").join(name);
        let outcome = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))
            .and_then(|source| publish_source(&api, &source, name, Some(&listed)));
        match outcome {
            Ok(o) => *published.entry(o.status).or_default() += 1,
            Err(e) => failures.push((format!("posts/{name}"), format!("{e:#}"))),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    drop(hold);
    println!(
        "files: {}; posts: {}",
        super::super::bulk::tally(&restored),
        super::super::bulk::tally(&published)
    );
    super::super::bulk::report(&failures, "item(s) not restored")
}

/// Puts one file back at its key: through the API, or an original too large for
/// a request through a presigned upload, which keys it by its name and content
/// exactly as it was keyed before.
fn put_back(api: &Api, dir: &Path, area: &str, key: &str) -> anyhow::Result<String> {
    let path = key.split('/').fold(dir.join(area), |p, s| p.join(s));
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    if area == "originals" && bytes.len() > blog_core::publish::assets::MAX_ASSET_BYTES {
        return presigned(api, key, bytes);
    }
    let reply = api.call(
        "PUT",
        &format!("/api/assets/files/{area}/{key}"),
        Body::Bytes(&bytes, "application/octet-stream"),
        None,
    )?;
    match reply.status {
        200 | 201 => Ok(reply.body["status"]
            .as_str()
            .unwrap_or("restored")
            .to_owned()),
        _ => bail!("{}", reply.message()),
    }
}

fn presigned(api: &Api, key: &str, bytes: Vec<u8>) -> anyhow::Result<String> {
    // `photo-<16 hex>.jpg` was uploaded as `photo.jpg`.
    let (stem, ext) = key.rsplit_once('.').unwrap_or((key, ""));
    let name = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 => format!("{name}.{ext}"),
        _ => key.to_owned(),
    };
    // The key names the content, so checking it before sending is checking the bytes.
    let expected = blog_core::publish::assets::original_key(&name, &bytes)?;
    if expected != key {
        bail!("the site would keep it as {expected} rather than {key}");
    }
    presigned_upload(api, &name, bytes)?;
    Ok("uploaded".to_owned())
}
