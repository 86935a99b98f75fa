//! Rendered pages kept in memory for as long as the store's [`Revision`] stays the
//! same: the local server's stand-in for the CDN in front of the functions. A page
//! is rendered once per change of the content folder (or once a scheduled post
//! turns public), then every request for it is a lookup.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use chrono::Utc;
use http::Method;

use crate::app::App;
use crate::http::{finish, Caching, Reply, Request, Response};
use crate::routes::reply;
use crate::store::{Assets, Posts, Revision};

/// Most bytes of page bodies kept: a site's every page and feed fits many times
/// over; past it, pages are rendered per request until the next change.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// Pages by path and query, for one revision of the store.
#[derive(Debug, Default)]
pub struct PageCache {
    kept: RwLock<Kept>,
    hits: AtomicU64,
}

#[derive(Debug, Default)]
struct Kept {
    revision: Option<Revision>,
    pages: HashMap<String, Reply>,
    bytes: usize,
}

impl PageCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers a page request as `routes::handle` does, from the cache when the
    /// store has not changed since the page was rendered.
    pub async fn handle<P: Posts, A: Assets>(&self, app: &App<P, A>, req: Request) -> Response {
        let reply = self.reply(app, &req).await;
        finish(&app.config, app.templates.csp(), &req, reply)
    }

    async fn reply<P: Posts, A: Assets>(&self, app: &App<P, A>, req: &Request) -> Reply {
        let now = Utc::now();
        let revision = match app.posts.revision(now) {
            Ok(Some(r)) if matches!(*req.method(), Method::GET | Method::HEAD) => r,
            // Not cacheable, or the store failed: the route reports it.
            _ => return reply(app, req, None, now).await,
        };
        let key = req.uri().path_and_query().map_or("/", |p| p.as_str());
        if let Some(hit) = self.lookup(revision, key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return hit;
        }
        let fresh = reply(app, req, None, now).await;
        if matches!(fresh.caching, Caching::Page | Caching::Short)
            && !fresh.status.is_server_error()
        {
            self.keep(revision, key, &fresh);
        }
        fresh
    }

    /// Requests answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn lookup(&self, revision: Revision, key: &str) -> Option<Reply> {
        let kept = self.kept.read().unwrap_or_else(PoisonError::into_inner);
        if kept.revision != Some(revision) {
            return None;
        }
        kept.pages.get(key).cloned()
    }

    fn keep(&self, revision: Revision, key: &str, reply: &Reply) {
        let mut kept = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        if kept.revision != Some(revision) {
            *kept = Kept {
                revision: Some(revision),
                ..Kept::default()
            };
        }
        if kept.bytes + reply.body.len() <= MAX_BYTES && !kept.pages.contains_key(key) {
            kept.bytes += reply.body.len();
            kept.pages.insert(key.to_owned(), reply.clone());
        }
    }
}
