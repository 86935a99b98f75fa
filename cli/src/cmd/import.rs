//! `blog import DIR`: publish a whole folder from another blog engine. Safe to
//! re-run: existing posts are updated at their current version, unchanged ones
//! are left alone, and every failure is listed with its reason at the end.
//!
//! File conventions understood: Flask-FlatPages and Zola (`name.md`), Jekyll
//! (`_posts/2024-05-01-name.md`, the date taken from the name when the front matter
//! has none), Hugo page bundles (`name/index.md`); `_index.md` section pages and
//! `README.md` files are not posts and are skipped.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use super::api::Api;
use super::publish::publish_source;
use crate::cli::ImportArgs;

/// Runs the import.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let api = Api::new(&args.remote)?;
    let mut files = Vec::new();
    collect(&args.dir, &mut files).with_context(|| format!("reading {}", args.dir.display()))?;
    files.sort();
    if files.is_empty() {
        bail!("no .md or .markdown files in {}", args.dir.display());
    }
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let hold = api.hold_invalidations()?;
    let existing = existing_slugs(&api)?;
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for file in &files {
        if let Some(h) = &hold {
            h.keep();
        }
        let shown = file
            .strip_prefix(&args.dir)
            .unwrap_or(file)
            .display()
            .to_string();
        bar.set_message(shown.clone());
        match import_one(&api, file, &existing) {
            Ok(status) => *counts.entry(status).or_default() += 1,
            Err(e) => failures.push((shown, format!("{e:#}"))),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    // Released here: everything the run queued goes out as one batch.
    drop(hold);
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!(
        "imported {} of {} file(s) from {}: {}",
        files.len() - failures.len(),
        files.len(),
        args.dir.display(),
        if summary.is_empty() {
            "none".to_owned()
        } else {
            summary.join(", ")
        }
    );
    println!(
        "{} request(s) in {:.1} s, {} refused for load and sent again; invalidations go out as one batch now",
        api.sent.get(),
        started.elapsed().as_secs_f64(),
        api.refused.get()
    );
    if !failures.is_empty() {
        println!("{} failed:", failures.len());
        for (file, why) in &failures {
            println!("  {file}: {why}");
        }
        bail!(
            "{} file(s) not imported; fix them and run the import again",
            failures.len()
        );
    }
    Ok(())
}

/// Every slug on the site now (one request), so new posts are created without
/// reading them first.
fn existing_slugs(api: &Api) -> anyhow::Result<std::collections::HashSet<String>> {
    let reply = api.call("GET", "/api/posts", super::api::Body::None, None)?;
    if reply.status != 200 {
        bail!("listing the site's posts: {}", reply.message());
    }
    Ok(reply.body["posts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["slug"].as_str().map(str::to_owned))
        .collect())
}

fn import_one(
    api: &Api,
    file: &Path,
    existing: &std::collections::HashSet<String>,
) -> anyhow::Result<String> {
    let bytes = std::fs::read(file)?;
    let source = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "not valid UTF-8 (first bad byte at offset {}): save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })?;
    let (name, date) = post_name(file);
    let source = match date {
        Some(d) => with_date(&source, &d),
        None => source,
    };
    Ok(publish_source(api, &source, &format!("{name}.md"), Some(existing))?.status)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(".");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, out)?;
        } else if (name.ends_with(".md") || name.ends_with(".markdown"))
            && !name.eq_ignore_ascii_case("readme.md")
            && name != "_index.md"
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The post's name by its engine's conventions, and a date the file name carries.
fn post_name(file: &Path) -> (String, Option<String>) {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("post");
    let stem = if stem == "index" {
        file.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or(stem)
    } else {
        stem
    };
    // Jekyll: 2024-05-01-my-post
    let dated = stem.get(..10).filter(|d| {
        d.len() == 10
            && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()
            && stem.as_bytes().get(10) == Some(&b'-')
    });
    match dated {
        Some(d) => (stem[11..].to_owned(), Some(d.to_owned())),
        None => (stem.to_owned(), None),
    }
}

/// Adds `date:` to YAML front matter that lacks one (Jekyll dates posts by file name).
fn with_date(source: &str, date: &str) -> String {
    let Some(rest) = source.strip_prefix("---\n") else {
        return source.to_owned();
    };
    let header_end = rest.find("\n---").unwrap_or(0);
    let has_date = rest[..header_end].lines().any(|l| l.starts_with("date:"));
    if has_date {
        source.to_owned()
    } else {
        format!("---\ndate: {date}\n{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_engine() {
        assert_eq!(
            post_name(Path::new("_posts/2024-05-01-hello-there.md")),
            ("hello-there".into(), Some("2024-05-01".into()))
        );
        assert_eq!(
            post_name(Path::new("content/posts/my-trip/index.md")),
            ("my-trip".into(), None)
        );
        assert_eq!(
            post_name(Path::new("pages/about.md")),
            ("about".into(), None)
        );
        assert_eq!(
            with_date("---\ntitle: T\n---\nx", "2024-05-01"),
            "---\ndate: 2024-05-01\ntitle: T\n---\nx"
        );
        assert_eq!(
            with_date("---\ndate: 2020-01-01\n---\nx", "2024-05-01"),
            "---\ndate: 2020-01-01\n---\nx"
        );
    }
}
