//! The filesystem store: Markdown files under a content folder, assets under its
//! `assets/` folder. It keeps an in-memory snapshot, rebuilt when a file watcher
//! reports a change (or on every call if no watcher could start), so an edited file
//! shows on the next request and unchanged files are never parsed twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use notify::Watcher as _;

use super::{Asset, Assets, Cursor, ListQuery, Listing, Posts, Revision, TagCount};

mod write;
use crate::authoring;
use crate::error::{InputError, StoreError};
use crate::post::{link_neighbours, post_path, FeedEntry, Post, PostSummary, Slug, SortKey, Tag};

/// Posts and assets in a folder.
pub struct FsStore {
    root: PathBuf,
    snapshot: RwLock<Arc<Snapshot>>,
    dirty: Arc<AtomicBool>,
    watching: bool,
    parsed: Mutex<HashMap<PathBuf, Parsed>>,
    /// Serialises this process's writers; a lock file does it across processes.
    write_lock: Mutex<()>,
    /// Invalidations the writes queued (in memory: locally there is no CDN).
    outbox: crate::cdn::outbox::MemoryOutbox,
    /// The site's versions (its posts are rendered as its files are read).
    ledger: crate::rerender::MemoryLedger,
    /// The site's time zone, for dates written without an offset.
    zone: chrono_tz::Tz,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl std::fmt::Debug for FsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// A file's parse result, reused while its size and modification time stay the same.
struct Parsed {
    modified: Option<SystemTime>,
    len: u64,
    /// Hash of the file's bytes: the post's version.
    version: u64,
    post: Result<Post, InputError>,
}

/// Everything the read methods need, built in one pass over the folder.
#[derive(Default)]
struct Snapshot {
    /// Unique to this snapshot within the process.
    generation: u64,
    by_slug: HashMap<Slug, Arc<Post>>,
    /// Non-draft posts, newest first, with their sort keys.
    ordered: Vec<(SortKey, Arc<Post>)>,
    aliases: HashMap<String, Slug>,
    /// Each post's file and version.
    files: HashMap<Slug, (PathBuf, u64)>,
    errors: Vec<InputError>,
}

impl FsStore {
    /// Opens `root` (which must be a folder) and loads it, reading dates without an
    /// offset as UTC.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        Self::open_in(root, chrono_tz::Tz::UTC)
    }

    /// As [`FsStore::open`], reading dates without an offset in `zone`.
    pub fn open_in(root: impl Into<PathBuf>, zone: chrono_tz::Tz) -> Result<Self, StoreError> {
        let root = root.into();
        if !root.is_dir() {
            return Err(StoreError::unavailable(
                format!("content folder {}", root.display()),
                "it does not exist or is not a folder",
            ));
        }
        let dirty = Arc::new(AtomicBool::new(true));
        let watcher = watch(&root, dirty.clone());
        if let Err(e) = &watcher {
            tracing::warn!(error = %e, "file watcher unavailable; rescanning content on every request");
        }
        let store = Self {
            root,
            snapshot: RwLock::new(Arc::default()),
            dirty,
            watching: watcher.is_ok(),
            parsed: Mutex::new(HashMap::new()),
            write_lock: Mutex::new(()),
            outbox: crate::cdn::outbox::MemoryOutbox::default(),
            ledger: crate::rerender::MemoryLedger::default(),
            zone,
            _watcher: watcher.ok(),
        };
        store.latest()?;
        Ok(store)
    }

    /// The content folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Files that could not be loaded, with why. They are left out of the site.
    pub fn errors(&self) -> Result<Vec<InputError>, StoreError> {
        Ok(self.latest()?.errors.clone())
    }

    fn latest(&self) -> Result<Arc<Snapshot>, StoreError> {
        if self.dirty.swap(false, Ordering::AcqRel) || !self.watching {
            let fresh = Arc::new(self.rebuild()?);
            *self
                .snapshot
                .write()
                .unwrap_or_else(PoisonError::into_inner) = fresh.clone();
            return Ok(fresh);
        }
        Ok(self
            .snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }

    fn rebuild(&self) -> Result<Snapshot, StoreError> {
        let mut files = Vec::new();
        collect_markdown(&self.root, &self.root.join("assets"), &mut files)
            .map_err(|e| StoreError::unavailable(format!("reading {}", self.root.display()), e))?;
        files.sort();
        let mut parsed = self.parsed.lock().unwrap_or_else(PoisonError::into_inner);
        parsed.retain(|path, _| files.contains(path));
        static GENERATIONS: AtomicU64 = AtomicU64::new(1);
        let mut snap = Snapshot {
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
            ..Snapshot::default()
        };
        let mut owners: HashMap<Slug, PathBuf> = HashMap::new();
        for path in &files {
            let entry = load(path, parsed.remove(path), self.zone, &self.root);
            let shown = path
                .strip_prefix(&self.root)
                .unwrap_or(path)
                .display()
                .to_string();
            match &entry.post {
                Err(e) => snap.errors.push(e.clone().in_file(&shown)),
                Ok(post) => match owners.get(&post.slug) {
                    Some(other) => snap.errors.push(
                        InputError::field(
                            "slug",
                            None,
                            format!("\"{}\" is already used by {}", post.slug, other.display()),
                        )
                        .in_file(&shown),
                    ),
                    None => {
                        owners.insert(
                            post.slug.clone(),
                            path.strip_prefix(&self.root).unwrap_or(path).to_owned(),
                        );
                        snap.files
                            .insert(post.slug.clone(), (path.clone(), entry.version));
                        snap.by_slug
                            .insert(post.slug.clone(), Arc::new(post.clone()));
                    }
                },
            }
            parsed.insert(path.clone(), entry);
        }
        for e in &snap.errors {
            tracing::warn!("skipped: {e}");
        }
        index(&mut snap);
        Ok(snap)
    }
}

fn watch(root: &Path, dirty: Arc<AtomicBool>) -> notify::Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.map(|e| !e.kind.is_access()).unwrap_or(true) {
            dirty.store(true, Ordering::Release);
        }
    })?;
    watcher.watch(root, notify::RecursiveMode::Recursive)?;
    Ok(watcher)
}

fn collect_markdown(dir: &Path, skip: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'));
        if hidden || path == skip {
            continue;
        }
        if path.is_dir() {
            collect_markdown(&path, skip, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

fn load(path: &Path, previous: Option<Parsed>, zone: chrono_tz::Tz, root: &Path) -> Parsed {
    let meta = std::fs::metadata(path).ok();
    let modified = meta.as_ref().and_then(|m| m.modified().ok());
    let len = meta.as_ref().map_or(0, |m| m.len());
    if let Some(p) =
        previous.filter(|p| p.modified == modified && p.len == len && modified.is_some())
    {
        return p;
    }
    let stem = path.file_stem().and_then(|s| s.to_str());
    let mut version = 0;
    let post = match std::fs::read(path) {
        Err(e) => Err(InputError::document(None, format!("cannot be read: {e}"))),
        Ok(bytes) => match String::from_utf8({
            version = file_version(&bytes);
            bytes
        }) {
            Err(e) => Err(InputError::document(
                None,
                format!(
                    "is not valid UTF-8 (first bad byte at offset {}): save it as UTF-8",
                    e.utf8_error().valid_up_to()
                ),
            )),
            Ok(text) => {
                let sizes = crate::images::AssetFolder(root.join("assets"));
                authoring::compile_with(&text, stem, zone, &sizes)
            }
        },
    };
    Parsed {
        modified,
        len,
        version,
        post,
    }
}

/// A file's version: a hash of its bytes, so an edit made in an editor changes it
/// just as a publish does.
fn file_version(bytes: &[u8]) -> u64 {
    // Never 0: that reads as "no version" in logs and tests.
    xxhash_rust::xxh3::xxh3_64(bytes).max(1)
}

/// Links neighbours, sorts non-draft posts and records aliases.
fn index(snap: &mut Snapshot) {
    let mut posts: Vec<Post> = snap
        .by_slug
        .drain()
        .map(|(_, p)| Arc::unwrap_or_clone(p))
        .collect();
    link_neighbours(&mut posts);
    for post in posts {
        for alias in &post.aliases {
            if *alias != post_path(&post.slug) {
                snap.aliases.insert(alias.clone(), post.slug.clone());
            }
        }
        let post = Arc::new(post);
        if !post.draft {
            snap.ordered.push((post.sort_key(), post.clone()));
        }
        snap.by_slug.insert(post.slug.clone(), post);
    }
    snap.ordered.sort_by(|a, b| b.0.cmp(&a.0));
}

impl Snapshot {
    fn public<'a>(
        &'a self,
        tag: Option<&'a Tag>,
        now: DateTime<Utc>,
    ) -> impl DoubleEndedIterator<Item = &'a (SortKey, Arc<Post>)> + 'a {
        let bound = SortKey::upper_bound(now);
        self.ordered
            .iter()
            .filter(move |(k, p)| *k < bound && tag.is_none_or(|t| p.tags.contains(t)))
    }
}

fn page(items: Vec<&(SortKey, Arc<Post>)>, limit: usize) -> (Vec<PostSummary>, bool) {
    let more = items.len() > limit;
    (
        items
            .into_iter()
            .take(limit)
            .map(|(_, p)| p.summary())
            .collect(),
        more,
    )
}

impl Posts for FsStore {
    async fn get(&self, slug: &Slug) -> Result<Option<Post>, StoreError> {
        Ok(self.latest()?.by_slug.get(slug).map(|p| (**p).clone()))
    }

    async fn list(&self, q: &ListQuery) -> Result<Listing, StoreError> {
        let snap = self.latest()?;
        let items = snap.public(q.tag.as_ref(), q.now);
        let (posts, more) = match &q.cursor {
            Cursor::First => page(items.take(q.limit + 1).collect(), q.limit),
            Cursor::Before(k) => page(
                items.filter(|(pk, _)| pk < k).take(q.limit + 1).collect(),
                q.limit,
            ),
            Cursor::After(k) => {
                let (mut posts, more) = page(
                    items
                        .rev()
                        .filter(|(pk, _)| pk > k)
                        .take(q.limit + 1)
                        .collect(),
                    q.limit,
                );
                posts.reverse();
                (posts, more)
            }
        };
        let total = snap.public(q.tag.as_ref(), q.now).count();
        let newer = posts.first().map_or(0, |first| {
            let key = first.sort_key();
            snap.public(q.tag.as_ref(), q.now)
                .take_while(|(k, _)| *k > key)
                .count()
        });
        Ok(Listing {
            posts,
            more,
            newer,
            total,
        })
    }

    async fn recent(
        &self,
        tag: Option<&Tag>,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let snap = self.latest()?;
        Ok(snap
            .public(tag, now)
            .take(limit)
            .map(|(_, p)| FeedEntry::from(&**p))
            .collect())
    }

    async fn all_public(&self, now: DateTime<Utc>) -> Result<Vec<PostSummary>, StoreError> {
        Ok(self
            .latest()?
            .public(None, now)
            .map(|(_, p)| p.summary())
            .collect())
    }

    async fn tags(&self, now: DateTime<Utc>) -> Result<Vec<TagCount>, StoreError> {
        let snap = self.latest()?;
        Ok(super::count_tags(
            snap.public(None, now).map(|(_, p)| p.tags.as_slice()),
        ))
    }

    async fn alias(&self, path: &str) -> Result<Option<Slug>, StoreError> {
        Ok(self.latest()?.aliases.get(path).cloned())
    }

    fn revision(&self, now: DateTime<Utc>) -> Result<Option<Revision>, StoreError> {
        if !self.watching {
            // Every read rescans: nothing tells when the folder changed.
            return Ok(None);
        }
        let snap = self.latest()?;
        // `ordered` is newest first, so the posts still to come lead it.
        Ok(Some(Revision {
            contents: snap.generation,
            scheduled: snap.ordered.partition_point(|(_, p)| !p.is_public(now)),
        }))
    }
}

impl Assets for FsStore {
    async fn get(&self, key: &str) -> Result<Option<Asset>, StoreError> {
        let path = self.root.join("assets").join(key);
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(Asset {
                body: bytes.into(),
                content_type: content_type(&path),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound || path.is_dir() => Ok(None),
            Err(e) => Err(StoreError::unavailable(format!("reading asset {key}"), e)),
        }
    }
}

/// Media type by extension; text types say their charset.
pub fn content_type(path: &Path) -> String {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    if mime.type_() == "text" || mime.subtype() == "javascript" || mime.subtype() == "json" {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

/// Every file below `dir` as a sorted list of `/`-separated paths relative to it;
/// hidden files (a write's temporary) are left out, and a missing `dir` is empty.
pub fn files_below(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    list_files(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// The files below `dir` as `/`-separated keys relative to `base`; hidden files
/// (a write's temporary) are not keys.
fn list_files(base: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            list_files(base, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(base) {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}
