//! `blog import DIR`: a whole blog from Flask-FlatPages, Jekyll, Hugo or Zola, with
//! the images its posts show and the addresses its posts had.
//!
//! Each file is read into this blog's header (the engine's fields as its
//! documentation defines them, dates as written), its slug decided (two files
//! that would share one never replace each other), the files it refers to
//! uploaded through the asset API (each once) and the references rewritten to
//! their `/assets/...` URLs, and its old addresses kept as aliases. Safe to re-run:
//! existing posts are updated at their current version, unchanged ones left alone.
//! A folder `blog export` wrote is restored as it was instead (see `restore`).

mod engine;
mod infer;
mod refs;
mod restore;
mod templating;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use blog_core::frontmatter::{self, FrontMatter};
use blog_core::post::Slug;

pub use engine::Engine;
use refs::Target;

use super::api::Api;
use super::publish::{publish_source, store_file};
use crate::cli::ImportArgs;

/// One file, read and checked, ready to send.
struct Plan {
    /// The file, as shown to the author (relative to the folder).
    shown: String,
    front: FrontMatter,
    /// The Markdown body as written.
    body: String,
    /// Lines of the file before the body, so warnings name file lines.
    header_lines: usize,
    file: engine::PostFile,
    slug: Slug,
    /// Aliases the post's own header gives (and the old name of a renamed file).
    aliases: Vec<String>,
    /// References to files in the folder, with the file each names.
    uploads: Vec<(refs::Ref, PathBuf)>,
    warnings: Vec<String>,
}

impl Plan {
    fn warn_at(&mut self, body_line: usize, message: String) {
        self.warnings
            .push(format!("line {}: {message}", body_line + self.header_lines));
    }
}

/// Runs the import.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    if restore::is_export(&args.dir) {
        return restore::run(&args);
    }
    let root = args.dir.as_path();
    let (engine, why) = match args.engine {
        Some(e) => (e, "--engine".to_owned()),
        None => engine::detect(root),
    };
    println!(
        "reading {} as a {} site ({why})",
        root.display(),
        engine.name()
    );
    let patterns = if args.old_urls.is_empty() {
        engine::default_patterns(engine, root)
    } else {
        args.old_urls.clone()
    };
    let mut files = Vec::new();
    engine::collect(root, &mut files).with_context(|| format!("reading {}", root.display()))?;
    files.sort();
    if files.is_empty() {
        bail!("no .md or .markdown files in {}", root.display());
    }
    let mut plans = Vec::new();
    let mut failures = Vec::new();
    for path in &files {
        let shown = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        match plan(engine, root, path, &shown, args.infer) {
            Ok(p) => plans.push(p),
            Err(e) => failures.push((shown, format!("{e:#}"))),
        }
    }
    distinct_slugs(&mut plans)?;
    let mut aliases = Vec::new();
    for p in &mut plans {
        aliases.push(old_addresses(p, &patterns)?);
    }
    let api = Api::new(&args.remote)?;
    if args.dry_run {
        dry_run(&api, root, &plans, &aliases, &failures);
    } else {
        send(&api, root, &mut plans, &aliases, &mut failures)?;
    }
    super::bulk::report(
        &failures,
        "file(s) not imported; fix them and run the import again",
    )
}

/// Reads one file into a plan: header, slug, references.
fn plan(
    engine: Engine,
    root: &Path,
    path: &Path,
    shown: &str,
    infer: bool,
) -> anyhow::Result<Plan> {
    let bytes = std::fs::read(path)?;
    let source = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "not valid UTF-8 (first bad byte at offset {}): save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })?;
    // As the parser reads it: line ends and a byte-order mark do not matter.
    let mut source = source
        .strip_prefix('\u{feff}')
        .unwrap_or(&source)
        .replace("\r\n", "\n");
    let file = engine::post_file(engine, root, path);
    let mut warnings = Vec::new();
    if !frontmatter::has_header(&source) && infer {
        let (with_header, said) =
            infer::header(&source, path, file.date.as_deref()).map_err(anyhow::Error::msg)?;
        source = with_header;
        warnings.push(said);
    } else if let Some(date) = &file.date {
        source = with_date(&source, date);
    }
    // Checked, not rendered: the page is rendered once, by the site, at publish.
    let checked = blog_core::authoring::check(&source, Some(&file.name), frontmatter::Tz::UTC)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    warnings.extend(checked.warnings.iter().map(ToString::to_string));
    let header_lines = source[..source.len().saturating_sub(checked.body.len())]
        .matches('\n')
        .count();
    let mut plan = Plan {
        shown: shown.to_owned(),
        front: checked.front,
        body: checked.body,
        header_lines,
        file,
        slug: checked.slug,
        aliases: checked.aliases,
        uploads: Vec::new(),
        warnings,
    };
    let (body, left) = templating::translate(&plan.body);
    plan.body = body;
    for (line, message) in left {
        plan.warn_at(line, message);
    }
    let post_dir = path.parent().unwrap_or(root);
    for r in refs::find(&plan.body) {
        let url = r.text(&plan.body).to_owned();
        match refs::resolve(&url, post_dir, root, r.image) {
            Target::Elsewhere => {}
            Target::Outside(f) => plan.warn_at(
                r.line,
                format!(
                    "{url} is {}, outside the folder being imported: not uploaded",
                    f.display()
                ),
            ),
            Target::File(f) if refs::has_image_extension(&f.to_string_lossy()) => {
                plan.uploads.push((r, f));
            }
            Target::File(f) => plan.warn_at(
                r.line,
                format!(
                    "{url} ({}) is not uploaded: the asset store takes images only (PNG, JPEG, GIF, WebP, AVIF); the link is left as it is",
                    f.strip_prefix(root).unwrap_or(&f).display()
                ),
            ),
            Target::Missing(looked) => {
                let places: Vec<String> = looked
                    .iter()
                    .map(|l| l.strip_prefix(root).unwrap_or(l).display().to_string())
                    .collect();
                plan.warn_at(
                    r.line,
                    format!(
                        "{url} is not in the folder (looked for {}); the reference is left as it is",
                        places.join(", ")
                    ),
                );
            }
        }
    }
    Ok(plan)
}

/// Adds `date:` to YAML front matter that lacks one (Jekyll dates posts by file name).
fn with_date(source: &str, date: &str) -> String {
    let Some(rest) = source.strip_prefix("---\n") else {
        return source.to_owned();
    };
    let header_end = rest.find("\n---").unwrap_or(0);
    let has_date = rest[..header_end]
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("date:"));
    if has_date {
        source.to_owned()
    } else {
        format!("---\ndate: {date}\n{rest}")
    }
}

/// Two files that would share a slug never replace each other: the later one
/// (by date, then by file) takes the slug with its date, or the import stops
/// before writing anything and names both.
fn distinct_slugs(plans: &mut [Plan]) -> anyhow::Result<()> {
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by(|&a, &b| {
        (plans[a].front.date, &plans[a].shown).cmp(&(plans[b].front.date, &plans[b].shown))
    });
    let mut taken: HashMap<String, usize> = HashMap::new();
    let wanted: HashSet<String> = plans.iter().map(|p| p.slug.to_string()).collect();
    for i in order {
        let slug = plans[i].slug.to_string();
        let Some(&first) = taken.get(&slug) else {
            taken.insert(slug, i);
            continue;
        };
        let day = plans[i].front.date.get().format("%Y-%m-%d");
        let other = format!("{slug}-{day}");
        let free = !taken.contains_key(&other) && !wanted.contains(&other);
        match Slug::parse(&other) {
            Ok(s) if free => {
                let said = format!(
                    "{} also makes the slug {slug}: this post is imported as {other}",
                    plans[first].shown
                );
                plans[i].warnings.push(said);
                plans[i].slug = s;
                taken.insert(other, i);
            }
            _ => bail!(
                "{} and {} both make the slug {slug} and no other could be chosen: nothing was imported. Give one of them a slug: field",
                plans[first].shown,
                plans[i].shown
            ),
        }
    }
    Ok(())
}

/// The addresses the post had: its header's aliases, then the engine's pattern
/// filled in. One this site serves (the post's own page, a tag page) is left out.
fn old_addresses(plan: &mut Plan, patterns: &[String]) -> anyhow::Result<Vec<String>> {
    let own = blog_core::post::post_path(&plan.slug);
    let mut out: Vec<String> = plan
        .aliases
        .iter()
        .filter(|a| **a != own)
        .cloned()
        .collect();
    for pattern in patterns {
        let filled = engine::fill(pattern, &plan.file, plan.slug.as_str(), &plan.front)
            .map_err(|e| anyhow::anyhow!("--old-urls: {e}"))?;
        let Ok(path) = blog_core::urls::canonical_path(&filled) else {
            plan.warnings.push(format!(
                "the old address {filled} is not a path here; not kept"
            ));
            continue;
        };
        if path == own || out.contains(&path) {
            continue;
        }
        if let Some(what) = blog_core::routes::reserved(&path) {
            plan.warnings.push(format!(
                "the old address {path} is {what} on this site; not kept"
            ));
            continue;
        }
        if out.len() == frontmatter::MAX_ALIASES {
            plan.warnings.push(format!(
                "the old address {path} is not kept: a post has at most {} aliases",
                frontmatter::MAX_ALIASES
            ));
            continue;
        }
        out.push(path);
    }
    Ok(out)
}

/// The source to send: this blog's header, the body with references rewritten.
fn source(
    plan: &Plan,
    aliases: &[String],
    uploaded: &HashMap<PathBuf, Result<String, String>>,
) -> String {
    let mut body = plan.body.clone();
    for (r, file) in plan.uploads.iter().rev() {
        if let Some(Ok(url)) = uploaded.get(file) {
            body.replace_range(r.start..r.end, url);
        }
    }
    blog_core::authoring::rewrite_source(&plan.front, &plan.slug, aliases, &body)
}

/// Every slug on the site now (one request), so new posts are created without
/// reading them first.
fn existing_slugs(api: &Api) -> anyhow::Result<HashSet<String>> {
    Ok(api.slugs()?.into_iter().collect())
}

fn dry_run(
    api: &Api,
    root: &Path,
    plans: &[Plan],
    aliases: &[Vec<String>],
    failures: &[(String, String)],
) {
    let existing = match existing_slugs(api) {
        Ok(s) => Some(s),
        Err(e) => {
            println!("(the site's posts could not be listed, so creates and updates are not told apart: {e:#})");
            None
        }
    };
    let mut seen = HashSet::new();
    let mut uploads = 0;
    let mut counts = BTreeMap::<&str, usize>::new();
    for (p, aliases) in plans.iter().zip(aliases) {
        let action = match &existing {
            Some(s) if s.contains(p.slug.as_str()) => "update",
            Some(_) => "create",
            None => "publish",
        };
        *counts.entry(action).or_default() += 1;
        println!("{action} /posts/{}/ from {}", p.slug, p.shown);
        for (r, file) in &p.uploads {
            let size = std::fs::metadata(file).map_or(0, |m| m.len());
            let again = if seen.insert(file.clone()) {
                uploads += 1;
                ""
            } else {
                " (uploaded once, for an earlier reference)"
            };
            println!(
                "  upload {} ({size} bytes) for {}{again}",
                file.strip_prefix(root).unwrap_or(file).display(),
                r.text(&p.body)
            );
        }
        for a in aliases {
            println!("  alias {a} → /posts/{}/", p.slug);
        }
        for w in &p.warnings {
            println!("  warning: {w}");
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} to {k}")).collect();
    println!(
        "dry run, nothing sent: {} post(s) ({}), {uploads} file(s) to upload, {} alias(es), {} failed",
        plans.len(),
        summary.join(", "),
        aliases.iter().map(Vec::len).sum::<usize>(),
        failures.len()
    );
}

fn send(
    api: &Api,
    root: &Path,
    plans: &mut [Plan],
    aliases: &[Vec<String>],
    failures: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let failed_before = failures.len();
    let bar = super::bulk::progress(plans.len());
    let started = std::time::Instant::now();
    let hold = api.hold_invalidations()?;
    let existing = existing_slugs(api)?;
    // Each file's upload, once: its URL, or why it could not be stored.
    let mut uploaded: HashMap<PathBuf, Result<String, String>> = HashMap::new();
    let mut counts = BTreeMap::<String, usize>::new();
    for (p, aliases) in plans.iter_mut().zip(aliases) {
        if let Some(h) = &hold {
            h.keep();
        }
        bar.set_message(p.shown.clone());
        let mut not_stored = Vec::new();
        for (r, file) in &p.uploads {
            let outcome = uploaded.entry(file.clone()).or_insert_with(|| {
                store_file(api, file)
                    .and_then(|reply| {
                        reply["path"]
                            .as_str()
                            .map(str::to_owned)
                            .context("the API gave no path")
                    })
                    .map_err(|e| format!("{e:#}"))
            });
            if let Err(why) = outcome {
                not_stored.push((
                    r.line,
                    format!(
                        "{} ({}) was not uploaded, so the reference is left as it is: {why}",
                        r.text(&p.body),
                        file.strip_prefix(root).unwrap_or(file).display()
                    ),
                ));
            }
        }
        for (line, message) in not_stored {
            p.warn_at(line, message);
        }
        let text = source(p, aliases, &uploaded);
        match publish_source(api, &text, &format!("{}.md", p.slug), Some(&existing)) {
            Ok(o) => *counts.entry(o.status).or_default() += 1,
            Err(e) => failures.push((p.shown.clone(), format!("{e:#}"))),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    // Released here: everything the run queued goes out as one batch.
    drop(hold);
    for p in plans.iter().filter(|p| !p.warnings.is_empty()) {
        println!("{}:", p.shown);
        for w in &p.warnings {
            println!("  warning: {w}");
        }
    }
    println!(
        "imported {} of {} file(s): {}; {} file(s) uploaded, {} alias(es) kept",
        plans.len() - (failures.len() - failed_before),
        plans.len() + failed_before,
        super::bulk::tally(&counts),
        uploaded.values().filter(|u| u.is_ok()).count(),
        aliases.iter().map(Vec::len).sum::<usize>(),
    );
    println!(
        "{} request(s) in {:.1} s, {} refused for load and sent again; invalidations go out as one batch now",
        api.sent.get(),
        started.elapsed().as_secs_f64(),
        api.refused.get()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_from_the_file_name_only_when_the_header_has_none() {
        assert_eq!(
            with_date("---\ntitle: T\n---\nx", "2024-05-01"),
            "---\ndate: 2024-05-01\ntitle: T\n---\nx"
        );
        assert_eq!(
            with_date("---\nDate: 2020-01-01\n---\nx", "2024-05-01"),
            "---\nDate: 2020-01-01\n---\nx"
        );
    }
}
