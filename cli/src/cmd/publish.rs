//! `blog publish`, `blog delete`, `blog upload`: the author's side of the publish API.

use std::path::Path;

use anyhow::{bail, Context};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::api::{Api, Body};
use crate::cli::{DeleteArgs, PublishArgs, UploadArgs};

/// What publishing one source did.
pub struct Outcome {
    /// `created`, `updated` or `unchanged`.
    pub status: String,
    /// The live URL.
    pub url: String,
    /// Notes for the author (draft, scheduled, invalidation trouble).
    pub notes: Vec<String>,
}

/// Publishes one source: checked locally first, then created, or updated at the
/// version the site has now. `listed` is the site's slugs when the caller listed
/// them (a bulk run): a post not among them is created straight away, one request
/// instead of two, and read first only if that create finds the slug taken after
/// all.
pub fn publish_source(
    api: &Api,
    source: &str,
    file_name: &str,
    listed: Option<&std::collections::HashSet<String>>,
) -> anyhow::Result<Outcome> {
    let stem = blog_core::authoring::source_stem(file_name);
    let (post, warnings) = blog_core::authoring::compile_reporting(
        source,
        Some(stem),
        blog_core::frontmatter::Tz::UTC,
        &blog_core::images::FromKeys,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let slug = post.slug.as_str();
    let body = json!({ "source": source, "file_name": format!("{stem}.md") });
    let with_warnings = |mut o: Outcome| {
        o.notes
            .extend(warnings.iter().map(|w| format!("warning: {w}")));
        o
    };
    if listed.is_some_and(|slugs| !slugs.contains(slug)) {
        let reply = api.call("POST", "/api/posts", Body::Json(&body), None)?;
        if reply.status != 409 {
            return outcome(api, reply).map(with_warnings);
        }
    }
    let existing = api.call("GET", &format!("/api/posts/{slug}"), Body::None, None)?;
    let reply = match existing.status {
        404 => api.call("POST", "/api/posts", Body::Json(&body), None)?,
        200 => api.call(
            "PUT",
            &format!("/api/posts/{slug}"),
            Body::Json(&json!({ "source": source })),
            existing.etag.as_deref(),
        )?,
        _ => bail!("reading {slug}: {}", existing.message()),
    };
    if reply.status == 412 && api.retried_unavailable() {
        // A 503 was answered and the update sent again: its first attempt may have
        // landed with the answer lost. If the post now holds exactly this source, it
        // did; anything else is someone else's edit, and stays the author's 412.
        let now = api.call("GET", &format!("/api/posts/{slug}"), Body::None, None)?;
        let landed = now.status == 200
            && now.body["source"]
                .as_str()
                .and_then(|s| blog_core::authoring::compile(s, Some(stem)).ok())
                .is_some_and(|p| p.same_content(&post));
        if landed {
            return Ok(with_warnings(Outcome {
                status: "updated".to_owned(),
                url: api.site_url(now.body["url"].as_str().unwrap_or("/")),
                notes: vec!["the first attempt had landed; its answer was lost".to_owned()],
            }));
        }
    }
    outcome(api, reply).map(with_warnings)
}

/// What the author hears about a write's reply.
fn outcome(api: &Api, reply: super::api::ApiReply) -> anyhow::Result<Outcome> {
    if !(200..300).contains(&reply.status) {
        bail!("{}", reply.message());
    }
    let b = &reply.body;
    let mut notes = Vec::new();
    if b["draft"].as_bool() == Some(true) {
        notes.push("draft: not shown on the site".to_owned());
    }
    match b["schedule"]["status"].as_str() {
        Some("set") => {
            let at = b["schedule"]["at"].as_str().unwrap_or("?");
            let shown = chrono::DateTime::parse_from_rfc3339(at)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|_| at.to_owned());
            notes.push(format!("scheduled for {shown}: the site updates itself then"));
        }
        Some("failed") => notes.push(format!(
            "the schedule that updates the site at the post's time failed ({}); publish again to retry",
            b["schedule"]["error"].as_str().unwrap_or("?")
        )),
        _ => {}
    }
    if b["invalidation"]["status"].as_str() == Some("queued") {
        notes.push(format!(
            "{} path(s) queued for invalidation (blog status shows them)",
            b["invalidation"]["paths"].as_array().map_or(0, Vec::len)
        ));
    }
    Ok(Outcome {
        status: b["status"].as_str().unwrap_or("published").to_owned(),
        url: api.site_url(b["url"].as_str().or(b["path"].as_str()).unwrap_or("/")),
        notes,
    })
}

/// `blog publish FILE...`.
pub fn run(args: PublishArgs) -> anyhow::Result<()> {
    let api = Api::new(&args.remote)?;
    // Many files end in one invalidation batch, sent when the hold is released.
    let hold = if args.files.len() > 1 {
        api.hold_invalidations()?
    } else {
        None
    };
    let mut failed = 0;
    for file in &args.files {
        if let Some(h) = &hold {
            h.keep();
        }
        match publish_file(&api, file) {
            Ok(o) => {
                println!("{} {}", o.status, o.url);
                for n in o.notes {
                    println!("  {n}");
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}: {e:#}", file.display());
            }
        }
    }
    drop(hold);
    if failed > 0 {
        bail!("{failed} of {} file(s) not published", args.files.len());
    }
    Ok(())
}

fn publish_file(api: &Api, file: &Path) -> anyhow::Result<Outcome> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let source = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "not valid UTF-8 (first bad byte at offset {}): save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the file name is not UTF-8")?;
    publish_source(api, &source, name, None)
}

/// The slug `arg` names: itself, or the slug of the source file it is the path of
/// (front matter, then file name, as publishing decides), so a pipeline can take
/// down the post a removed file published.
fn slug_of(arg: &str) -> anyhow::Result<String> {
    let path = std::path::Path::new(arg);
    let is_source = [".md", ".markdown"].iter().any(|e| arg.ends_with(e));
    if !is_source || !path.is_file() {
        return Ok(arg.to_owned());
    }
    let text = std::fs::read_to_string(path)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let post = blog_core::authoring::compile(&text, Some(blog_core::authoring::source_stem(name)))
        .map_err(|e| anyhow::anyhow!("{arg}: {e}"))?;
    Ok(post.slug.to_string())
}

/// `blog delete SLUG` (or `blog delete FILE.md`).
pub fn delete(mut args: DeleteArgs) -> anyhow::Result<()> {
    args.slug = slug_of(&args.slug)?;
    let api = Api::new(&args.remote)?;
    let path = format!("/api/posts/{}", args.slug);
    let current = api.call("GET", &path, Body::None, None)?;
    if current.status == 404 && args.missing_ok {
        println!("{} is not there: nothing to delete", args.slug);
        return Ok(());
    }
    if current.status != 200 {
        bail!("{}: {}", args.slug, current.message());
    }
    let reply = api.call("DELETE", &path, Body::None, current.etag.as_deref())?;
    if matches!(reply.status, 404 | 412) && api.retried_unavailable() {
        // Sent again after a 503: gone now means the first attempt landed.
        if api.call("GET", &path, Body::None, None)?.status == 404 {
            println!(
                "deleted {} (the first attempt had landed; its answer was lost)",
                args.slug
            );
            return Ok(());
        }
    }
    if reply.status != 200 {
        bail!("{}: {}", args.slug, reply.message());
    }
    println!(
        "deleted {} ({} path(s) queued for invalidation)",
        args.slug,
        reply.body["invalidation"]["paths"]
            .as_array()
            .map_or(0, Vec::len),
    );
    Ok(())
}

/// Sends `bytes` among the originals through a presigned upload (`name` gives the
/// readable part of its key); returns the presign answer (`original`, `process`).
pub fn presigned_upload(
    api: &Api,
    name: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<serde_json::Value> {
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let reply = api.call(
        "POST",
        "/api/assets/uploads",
        Body::Json(&json!({ "name": name, "size": bytes.len(), "sha256": sha })),
        None,
    )?;
    if reply.status != 200 {
        bail!("{}", reply.message());
    }
    let status = api.upload(&reply.body["upload"], bytes)?;
    if !(200..300).contains(&status) {
        bail!("the storage refused the upload (HTTP {status})");
    }
    Ok(reply.body)
}

/// Stores one image file through the asset API (a presigned upload when it is too
/// large for a request) and returns the API's answer: `path`, `markdown`, `image`.
pub fn store_file(api: &Api, file: &Path) -> anyhow::Result<serde_json::Value> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the file name is not UTF-8")?;
    let encoded: String =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    let stored = if bytes.len() <= blog_core::publish::assets::MAX_ASSET_BYTES {
        let reply = api.call(
            "POST",
            &format!("/api/assets?name={encoded}"),
            Body::Bytes(&bytes, "application/octet-stream"),
            None,
        )?;
        if reply.status != 201 {
            bail!("{name}: {}", reply.message());
        }
        reply.body
    } else {
        let reply = presigned_upload(api, name, bytes).with_context(|| name.to_owned())?;
        let processed = api.call(
            "POST",
            "/api/assets/process",
            Body::Json(&reply["process"]["body"]),
            None,
        )?;
        if processed.status != 201 {
            bail!("{name}: {}", processed.message());
        }
        processed.body
    };
    Ok(stored)
}

/// `blog upload FILE`: through the API, or a presigned upload when too large.
pub fn upload(args: UploadArgs) -> anyhow::Result<()> {
    let api = Api::new(&args.remote)?;
    let stored = store_file(&api, &args.file)?;
    if let Some(image) = stored.get("image") {
        let served: u64 = image["variants"]
            .as_array()
            .map_or(0, |v| v.iter().filter_map(|v| v["bytes"].as_u64()).sum());
        eprintln!(
            "made {} files from {}×{} ({} bytes), without its metadata: {served} bytes together",
            image["variants"].as_array().map_or(0, Vec::len),
            image["original_width"],
            image["original_height"],
            image["original_bytes"],
        );
    }
    println!("{}", stored["markdown"].as_str().unwrap_or_default());
    eprintln!(
        "uploaded {}",
        api.site_url(stored["path"].as_str().unwrap_or("/"))
    );
    Ok(())
}
