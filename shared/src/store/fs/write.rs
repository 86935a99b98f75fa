//! Writes to the filesystem store. Each runs under a lock (a mutex in this process,
//! an exclusive lock on `.blog.lock` across processes), checks its condition against
//! a fresh scan of the folder, and replaces files by writing a temporary file and
//! renaming it over the old one, so a reader or a crash never sees half a post.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, MutexGuard, PoisonError};

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::{FsStore, Snapshot};
use crate::authoring;
use crate::cdn::outbox::{Outbox, OutboxState, Sent};
use crate::cdn::paths::changed;
use crate::error::StoreError;
use crate::post::{Neighbour, Post, Slug};
use crate::store::{
    Area, AssetWriter, Expected, Fetched, IndexEntry, PostWriter, PresignedUpload, Restored,
    Versioned, Written,
};

/// The lock file in the content folder (hidden, so never read as a post).
pub const LOCK_FILE: &str = ".blog.lock";

/// Held for the length of one write.
struct WriteGuard<'a> {
    _local: MutexGuard<'a, ()>,
    _file: File,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let context = context.into();
    move |e| StoreError::unavailable(context, e)
}

impl FsStore {
    fn lock_for_write(&self) -> Result<WriteGuard<'_>, StoreError> {
        let local = self
            .write_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let path = self.root.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(format!("opening {}", path.display())))?;
        file.lock()
            .map_err(io(format!("locking {}", path.display())))?;
        Ok(WriteGuard {
            _local: local,
            _file: file,
        })
    }

    /// Rescans after a write and makes the result what readers see at once.
    fn install(&self) -> Result<Arc<Snapshot>, StoreError> {
        let fresh = Arc::new(self.rebuild()?);
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = fresh.clone();
        Ok(fresh)
    }

    /// Queues the paths a write changed (still under the write's lock) and
    /// reports the write.
    fn written(
        &self,
        before: Option<Post>,
        after: Option<Versioned>,
        relinked: Vec<Neighbour>,
    ) -> Written {
        let now = Utc::now();
        let paths = changed(
            before.as_ref(),
            after.as_ref().map(|v| &v.post),
            &relinked,
            now,
        );
        let queued = self.outbox.push(&paths, now);
        Written {
            before,
            after,
            relinked,
            paths,
            queued,
            at: now,
        }
    }

    fn versioned(snap: &Snapshot, slug: &Slug) -> Option<Versioned> {
        let post = snap.by_slug.get(slug)?;
        let (_, version) = snap.files.get(slug)?;
        Some(Versioned {
            post: (**post).clone(),
            version: *version,
        })
    }
}

/// Checks what a write expects against the folder as it is now; returns the
/// post's file and version when there is one.
fn check_expected(
    snap: &Snapshot,
    slug: &Slug,
    expected: Expected,
) -> Result<Option<(PathBuf, u64)>, StoreError> {
    let found = snap.files.get(slug).cloned();
    expected.check(slug, found.as_ref().map(|(_, version)| *version))?;
    Ok(found)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(StoreError::unavailable(
            format!("writing {}", path.display()),
            e,
        ));
    }
    // Make the rename itself durable; not every platform can open a folder.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Posts (other than the ones written) whose previous/next links differ between scans.
fn relinked(before: &Snapshot, after: &Snapshot, written: &[&Slug]) -> Vec<Neighbour> {
    let mut out: Vec<Neighbour> = after
        .by_slug
        .values()
        .filter(|p| !written.contains(&&p.slug))
        .filter(|p| {
            before
                .by_slug
                .get(&p.slug)
                .is_none_or(|old| old.previous != p.previous || old.next != p.next)
        })
        .map(|p| Neighbour::of(p))
        .collect();
    out.sort_by(|a, b| a.slug.cmp(&b.slug));
    out
}

impl PostWriter for FsStore {
    async fn current(&self, slug: &Slug) -> Result<Option<Versioned>, StoreError> {
        let _guard = self.lock_for_write()?;
        let snap = self.install()?;
        Ok(Self::versioned(&snap, slug))
    }

    async fn index(&self) -> Result<Vec<IndexEntry>, StoreError> {
        let snap = self.latest()?;
        let mut out: Vec<IndexEntry> = snap
            .by_slug
            .values()
            .map(|p| IndexEntry {
                slug: p.slug.clone(),
                title: p.title.clone(),
                date: p.date,
                draft: p.draft,
            })
            .collect();
        out.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.slug.cmp(&b.slug)));
        Ok(out)
    }

    async fn save(
        &self,
        slug: &Slug,
        post: Post,
        source: &str,
        expected: Expected,
    ) -> Result<Written, StoreError> {
        let _guard = self.lock_for_write()?;
        let before = self.rebuild()?;
        let found = check_expected(&before, slug, expected)?;
        let renamed = post.slug != *slug;
        let target = match (&found, renamed) {
            (Some((path, _)), false) => path.clone(),
            _ => self.root.join(format!("{}.md", post.slug)),
        };
        if renamed && before.files.contains_key(&post.slug) {
            return Err(StoreError::Conflict(format!(
                "cannot rename \"{slug}\" to \"{}\": a post with that slug exists",
                post.slug
            )));
        }
        if found.is_none() || renamed {
            if let Some(shown) = target.file_name().filter(|_| target.exists()) {
                return Err(StoreError::Conflict(format!(
                    "{} already exists but is not a valid post: fix or remove it first",
                    shown.to_string_lossy()
                )));
            }
        }
        for alias in &post.aliases {
            if let Some(owner) = before.aliases.get(alias) {
                if owner != slug && *owner != post.slug {
                    return Err(StoreError::Conflict(format!(
                        "the alias {alias} already belongs to the post \"{owner}\""
                    )));
                }
            }
        }
        if let Some((alias, owner)) = super::super::alias_pages(&post, slug)
            .into_iter()
            .find(|(_, s)| before.by_slug.contains_key(s))
        {
            return Err(super::super::alias_page_taken(alias, &owner));
        }
        // Keep the author's text when it reads back as this post from this file name;
        // otherwise (a rename, a slug the file name does not give) write it out whole.
        let stem = target.file_stem().and_then(|s| s.to_str());
        let keeps =
            authoring::compile_in(source, stem, self.zone).is_ok_and(|p| p.same_content(&post));
        let text = if keeps {
            source.to_owned()
        } else {
            authoring::to_source(&post)
        };
        replace_file(&target, text.as_bytes())?;
        if let (Some((old, _)), true) = (&found, renamed) {
            std::fs::remove_file(old).map_err(io(format!(
                "removing {} after writing {}",
                old.display(),
                target.display()
            )))?;
        }
        let after = self.install()?;
        Ok(self.written(
            before.by_slug.get(slug).map(|p| (**p).clone()),
            Self::versioned(&after, &post.slug),
            relinked(&before, &after, &[slug, &post.slug]),
        ))
    }

    async fn delete(&self, slug: &Slug, version: u64) -> Result<Written, StoreError> {
        let _guard = self.lock_for_write()?;
        let before = self.rebuild()?;
        let Some((path, _)) = check_expected(&before, slug, Expected::Version(version))? else {
            return Err(StoreError::Stale(format!(
                "the post \"{slug}\" no longer exists"
            )));
        };
        std::fs::remove_file(&path).map_err(io(format!("removing {}", path.display())))?;
        let after = self.install()?;
        Ok(self.written(
            before.by_slug.get(slug).map(|p| (**p).clone()),
            None,
            relinked(&before, &after, &[slug]),
        ))
    }
}

impl Outbox for FsStore {
    async fn queue(
        &self,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        self.outbox.queue(paths, now).await
    }

    async fn outbox(&self) -> Result<OutboxState, StoreError> {
        self.outbox.outbox().await
    }

    async fn hold(&self, until: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        self.outbox.hold(until).await
    }

    async fn clear(&self, ids: &[String], sent: &Sent) -> Result<(), StoreError> {
        self.outbox.clear(ids, sent).await
    }
}

impl AssetWriter for FsStore {
    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<(), StoreError> {
        let _guard = self.lock_for_write()?;
        replace_file(&self.root.join("assets").join(key), &body)
    }

    async fn presign(
        &self,
        _key: &str,
        _content_type: &str,
        _length: u64,
        _sha256_base64: &str,
    ) -> Result<Option<PresignedUpload>, StoreError> {
        Ok(None)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let _guard = self.lock_for_write()?;
        match std::fs::remove_file(self.root.join("assets").join(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StoreError::unavailable(format!("removing asset {key}"), e))
            }
            _ => Ok(()),
        }
    }

    /// Originals live beside `assets/`, in `originals/`, which `blog serve` never serves.
    async fn put_original(
        &self,
        key: &str,
        body: Bytes,
        _content_type: &str,
    ) -> Result<(), StoreError> {
        let _guard = self.lock_for_write()?;
        replace_file(&self.root.join("originals").join(key), &body)
    }

    async fn get_original(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        read_if_present(&self.root.join("originals").join(key))
    }

    async fn keys(&self, area: Area) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join(area.name());
        super::files_below(&dir)
            .map_err(|e| StoreError::unavailable(format!("listing {}", dir.display()), e))
    }

    async fn fetch(&self, area: Area, key: &str) -> Result<Option<Fetched>, StoreError> {
        Ok(read_if_present(&self.root.join(area.name()).join(key))?.map(Fetched::Bytes))
    }

    async fn restore(
        &self,
        area: Area,
        key: &str,
        body: Bytes,
        _content_type: &str,
    ) -> Result<Restored, StoreError> {
        let _guard = self.lock_for_write()?;
        let path = self.root.join(area.name()).join(key);
        // Under the write lock, so nothing writes between the look and the write.
        match read_if_present(&path)? {
            Some(held) if held == body => Ok(Restored::Unchanged),
            Some(_) => Ok(Restored::Differs),
            None => replace_file(&path, &body).map(|()| Restored::Created),
        }
    }
}

fn read_if_present(path: &Path) -> Result<Option<Bytes>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes.into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::unavailable(
            format!("reading {}", path.display()),
            e,
        )),
    }
}

impl crate::rerender::RenderLedger for FsStore {
    async fn stale(&self, renderer: &str) -> Result<Vec<Slug>, StoreError> {
        let snapshot = self.latest()?;
        let mut slugs: Vec<Slug> = snapshot
            .by_slug
            .values()
            .filter(|p| p.renderer != renderer)
            .map(|p| p.slug.clone())
            .collect();
        slugs.sort();
        Ok(slugs)
    }

    async fn site_versions(&self) -> Result<Option<crate::rerender::SiteVersions>, StoreError> {
        Ok(self.ledger.versions())
    }

    async fn record_versions(
        &self,
        from: Option<&crate::rerender::SiteVersions>,
        to: &crate::rerender::SiteVersions,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let recorded = self.ledger.record(from, to);
        Ok(recorded.then(|| self.outbox.push(paths, now)).flatten())
    }

    async fn job(&self) -> Result<Option<crate::rerender::Job>, StoreError> {
        Ok(self.ledger.job())
    }

    async fn set_job(&self, job: Option<&crate::rerender::Job>) -> Result<(), StoreError> {
        self.ledger.set_job(job);
        Ok(())
    }

    async fn requests(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        Ok(self.ledger.requests())
    }

    async fn keep_request(&self, id: &str, event: &serde_json::Value) -> Result<(), StoreError> {
        self.ledger.keep_request(id, event);
        Ok(())
    }

    async fn drop_request(&self, id: &str) -> Result<(), StoreError> {
        self.ledger.drop_request(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_file_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.md");
        replace_file(&path, b"one").unwrap();
        replace_file(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.md")]);
        assert_ne!(
            super::super::file_version(b"one"),
            super::super::file_version(b"two")
        );
    }
}
