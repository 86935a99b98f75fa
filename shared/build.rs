//! Derives the two versions a deployed site is compared against (`crate::version`)
//! from what decides their output, so nobody bumps them by hand:
//!
//! - the renderer: the Markdown and highlighting code, and the locked versions of
//!   comrak, syntect and everything they depend on;
//! - the pages: the templates and styles, the modules that fill them, and the
//!   renderer.
//!
//! Each is the first 16 hex digits of a SHA-256 over those inputs' names and bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Source files and folders (relative to this crate) whose code shapes stored HTML.
const RENDERER_SOURCES: &[&str] = &["src/markdown.rs", "src/markdown", "src/highlight.rs"];
/// Crates whose locked versions (with their dependencies') shape stored HTML.
const RENDERER_CRATES: &[&str] = &["comrak", "syntect"];
/// What shapes the pages around the stored HTML.
const PAGE_SOURCES: &[&str] = &[
    "../templates",
    "src/render.rs",
    "src/render",
    "src/routes",
    "src/urls.rs",
    "src/http.rs",
];

fn main() {
    let here = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let lock = here.join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());

    let mut renderer = Sha256::new();
    hash_sources(&mut renderer, &here, RENDERER_SOURCES);
    let locked = std::fs::read_to_string(&lock).unwrap_or_default();
    for line in locked_closure(&locked, RENDERER_CRATES) {
        renderer.update(line.as_bytes());
        renderer.update(b"\n");
    }
    let renderer = hex16(&renderer.finalize());

    let mut pages = Sha256::new();
    pages.update(renderer.as_bytes());
    hash_sources(&mut pages, &here, PAGE_SOURCES);
    let pages = hex16(&pages.finalize());

    println!("cargo:rustc-env=BLOG_RENDERER_VERSION={renderer}");
    println!("cargo:rustc-env=BLOG_PAGES_VERSION={pages}");
}

/// Hashes every file under `sources` (sorted, tests left out: they change no
/// output), each as its path and its bytes.
fn hash_sources(hasher: &mut Sha256, root: &Path, sources: &[&str]) {
    let mut files = BTreeSet::new();
    for source in sources {
        let path = root.join(source);
        println!("cargo:rerun-if-changed={}", path.display());
        collect(&path, source, &mut files);
    }
    for (name, path) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&path).unwrap_or_default());
        hasher.update([0]);
    }
}

fn collect(path: &Path, name: &str, files: &mut BTreeSet<(String, PathBuf)>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            collect(&entry.path(), &format!("{name}/{file}"), files);
        }
    } else if path.is_file() && !name.ends_with("/tests.rs") {
        files.insert((name.to_owned(), path.to_owned()));
    }
}

/// `name version` of each root crate and everything it depends on, as Cargo.lock
/// records them, sorted.
fn locked_closure(lock: &str, roots: &[&str]) -> BTreeSet<String> {
    // name -> [(version, dependencies)]; a dependency is "name" or "name version".
    let mut packages: BTreeMap<String, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
                .map(|v| v.trim_end_matches('"').to_owned())
        };
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            continue;
        };
        let deps = block
            .split_once("dependencies = [")
            .map(|(_, rest)| rest.split(']').next().unwrap_or_default())
            .unwrap_or_default()
            .split(',')
            .map(|d| d.trim().trim_matches('"').to_owned())
            .filter(|d| !d.is_empty())
            .collect();
        packages.entry(name).or_default().push((version, deps));
    }
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.iter().map(|r| (*r).to_owned()).collect();
    while let Some(dep) = todo.pop() {
        let (name, version) = match dep.split_once(' ') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (dep.clone(), None),
        };
        for (v, deps) in packages.get(&name).into_iter().flatten() {
            if version.as_ref().is_some_and(|want| want != v) {
                continue;
            }
            if seen.insert(format!("{name} {v}")) {
                todo.extend(deps.iter().cloned());
            }
        }
    }
    seen
}

fn hex16(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
