//! Publishing into the table. One write is one `TransactWriteItems`: the post, its
//! feed and tag entries, its aliases, the previous/next links of the posts around
//! its old and new places, and the `SITE` item. Every part carries a condition:
//!
//! - the post: absent for a create (and for the new slug of a rename), at the
//!   version the author saw for an update or delete;
//! - aliases: free, or already this post's;
//! - neighbours: still there;
//! - `SITE`: still at the revision read before the links were computed, so two
//!   publishes can never interleave their neighbour updates. Losing that race is
//!   retried with fresh reads; losing on the post's own condition is the author's
//!   412 or 409.
//!
//! The same transaction queues the write's invalidation in the outbox (see
//! `crate::cdn`), so a committed write always has its paths recorded.
//!
//! Neighbours are found in the `FEED` run with strongly consistent queries (the
//! index is eventually consistent). DynamoDB applies all or nothing, so a failure
//! at any step leaves the table as it was.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use super::items::{
    from_item, post_pk, s, Item, PostItem, BY_DATE, DRAFTS, FEED_PK, MAX_TRANSACTION_BYTES,
    MAX_TRANSACTION_ITEMS, POST_SK, PUBLISHED, SITE_PK,
};
use super::links::{self, LinkPlan};
use super::tx::{Part, Tx};
use super::{unavailable, DynamoPosts};
use chrono::Utc;

use crate::cdn::outbox::Queued;
use crate::cdn::paths::changed;
use crate::error::StoreError;
use crate::post::{Neighbour, Post, Slug, SortKey};
use crate::store::{
    alias_page_taken, alias_pages, Expected, IndexEntry, PostWriter, Versioned, Written,
};

/// How many times a publish that lost a race re-reads and tries again. Publishes
/// serialise on `SITE`: of n writers that read the same revision one lands per
/// round, so the last of n concurrent publishes can need n attempts; the jittered
/// backoff below spreads them (20 concurrent creates on DynamoDB Local needed at
/// most 11 in `cli/tests/limits.rs`). Five, the earlier figure, left 13 of those
/// 20 refused. API Gateway's burst of 10 bounds the real concurrency.
const ATTEMPTS: u32 = 40;

/// The backoff between attempts: random in [0, min(cap, base * 2^attempt)) ("full
/// jitter"), so writers that collided do not collide again in lockstep.
const BACKOFF_BASE_MS: u64 = 5;
const BACKOFF_CAP_MS: u64 = 200;

fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling = BACKOFF_CAP_MS.min(BACKOFF_BASE_MS << attempt.min(10));
    let mut bytes = [0u8; 8];
    // Jitter only: a failed random source just means no jitter.
    let _ = getrandom::fill(&mut bytes);
    std::time::Duration::from_millis(u64::from_le_bytes(bytes) % ceiling.max(1))
}

/// Why one attempt did not land.
enum Failure {
    /// Another publish changed the site in between: read again and retry.
    Raced,
    /// For the author.
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl DynamoPosts {
    /// The post at `slug` with its version, read consistently.
    async fn stored(&self, slug: &Slug) -> Result<Option<Versioned>, StoreError> {
        self.get_item(post_pk(slug), POST_SK, true, "reading before a write")
            .await?
            .map(from_item::<PostItem>)
            .transpose()
            .map(|item| {
                item.map(|i| Versioned {
                    post: i.post,
                    version: i.version,
                })
            })
    }

    /// The `SITE` revision, read consistently (`None` before the first publish).
    async fn site_revision(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .get_item(SITE_PK.to_owned(), SITE_PK, true, "reading before a write")
            .await?
            .and_then(|item| item.get("revision")?.as_n().ok()?.parse().ok()))
    }

    /// The closest listed post older (`newer == false`) or newer than `key`, other
    /// than `skip`, read consistently from the `FEED` run.
    async fn beside(
        &self,
        key: &SortKey,
        newer: bool,
        skip: &Slug,
    ) -> Result<Option<Neighbour>, StoreError> {
        let condition = if newer {
            "pk = :pk AND sk > :k"
        } else {
            "pk = :pk AND sk < :k"
        };
        let out = self
            .link_query()
            .key_condition_expression(condition)
            .expression_attribute_values(":pk", s(FEED_PK))
            .expression_attribute_values(":k", s(key.as_str()))
            .scan_index_forward(newer)
            .consistent_read(true)
            .limit(2)
            .send()
            .await
            .map_err(|e| unavailable("finding the neighbouring posts", e))?;
        Ok(links_of(out.items)?.into_iter().find(|n| n.slug != *skip))
    }

    /// A Query reading only what a link to a post shows: slug, title and date.
    fn link_query(&self) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .expression_attribute_names("#t", "title")
            .expression_attribute_names("#d", "date")
            .projection_expression("slug, #t, #d")
    }

    async fn write(
        &self,
        slug: &Slug,
        new: Option<Post>,
        expected: Expected,
    ) -> Result<Written, StoreError> {
        for attempt in 1..=ATTEMPTS {
            match self.attempt(slug, new.clone(), expected).await {
                Ok(w) => return Ok(w),
                Err(Failure::Store(e)) => return Err(e),
                Err(Failure::Raced) => {
                    tracing::info!(%slug, attempt, "another publish landed first; retrying with fresh reads");
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
        Err(StoreError::Conflict(format!(
            "other publishes kept changing the site while \"{slug}\" was written; nothing was changed, try again"
        )))
    }

    /// Reads what the write depends on, checks the author's expectation, and sends
    /// one transaction built from it.
    async fn attempt(
        &self,
        slug: &Slug,
        new: Option<Post>,
        expected: Expected,
    ) -> Result<Written, Failure> {
        let revision = self.site_revision().await?;
        let before = self.stored(slug).await?;
        expected.check(slug, before.as_ref().map(|b| b.version))?;
        if let Some(post) = &new {
            self.check_names(slug, post).await?;
        }
        let old: Option<Post> = before.as_ref().map(|b| b.post.clone());
        let (new, links) = self.link(slug, old.as_ref(), new).await?;
        let version = before.as_ref().map_or(1, |b| b.version + 1);
        let now = Utc::now();
        let paths = changed(old.as_ref(), new.as_ref(), &links.relinked, now);
        // The revision this write makes is unique: it names the outbox entry.
        let queued = (!paths.is_empty()).then(|| Queued {
            id: format!("{:020}", revision.unwrap_or(0) + 1),
            paths: paths.clone(),
            queued_at: now,
        });

        let mut tx = Tx::new(&self.table);
        tx.post(slug, before.map(|b| b.version), new.as_ref(), version)?;
        tx.entries(old.as_ref(), new.as_ref())?;
        tx.aliases(slug, old.as_ref(), new.as_ref())?;
        tx.links(&links)?;
        tx.site(revision)?;
        let id = queued.as_ref().map(|q| q.id.clone());
        if let Some(q) = queued {
            tx.outbox(q)?;
        }
        self.send(tx, slug).await?;
        Ok(Written {
            before: old,
            after: new.map(|post| Versioned { post, version }),
            relinked: links.relinked,
            paths,
            queued: id,
            at: now,
        })
    }

    /// Refuses aliases naming a live post's page and a rename onto a taken slug.
    /// Read after the revision: a post created meanwhile changes it, and this
    /// transaction's revision condition then fails and the check runs again.
    async fn check_names(&self, slug: &Slug, post: &Post) -> Result<(), StoreError> {
        for (alias, owner) in alias_pages(post, slug) {
            if self.stored(&owner).await?.is_some() {
                return Err(alias_page_taken(alias, &owner));
            }
        }
        if post.slug != *slug && self.stored(&post.slug).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "cannot rename \"{slug}\" to \"{}\": a post with that slug exists",
                post.slug
            )));
        }
        Ok(())
    }

    /// Finds the new neighbours and plans the links; returns the post to store
    /// with its own links set.
    async fn link(
        &self,
        slug: &Slug,
        old: Option<&Post>,
        new: Option<Post>,
    ) -> Result<(Option<Post>, LinkPlan), StoreError> {
        let Some(mut post) = new else {
            let plan = links::plan(old.filter(|p| !p.draft), None, None, None);
            return Ok((None, plan));
        };
        post.previous = None;
        post.next = None;
        let (older, newer) = if post.draft {
            (None, None)
        } else {
            let key = post.sort_key();
            (
                self.beside(&key, false, slug).await?,
                self.beside(&key, true, slug).await?,
            )
        };
        let plan = links::plan(
            old.filter(|p| !p.draft),
            Some(&post).filter(|p| !p.draft),
            older.as_ref(),
            newer.as_ref(),
        );
        post.previous = older;
        post.next = newer;
        Ok((Some(post), plan))
    }

    async fn send(&self, tx: Tx<'_>, slug: &Slug) -> Result<(), Failure> {
        if tx.items.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::TooLarge {
                what: format!(
                    "the write of \"{slug}\" ({} changes: tags, aliases, links)",
                    tx.items.len()
                ),
                size: tx.items.len(),
                limit: MAX_TRANSACTION_ITEMS,
            }
            .into());
        }
        let total: usize = tx.items.iter().map(|i| i.size).sum();
        if total > MAX_TRANSACTION_BYTES {
            return Err(StoreError::TooLarge {
                what: format!("post \"{slug}\" with its feed and tag entries"),
                size: total,
                limit: MAX_TRANSACTION_BYTES,
            }
            .into());
        }
        let parts: Vec<Part> = tx.items.iter().map(|i| i.part.clone()).collect();
        self.client
            .transact_write_items()
            .set_transact_items(Some(tx.items.into_iter().map(|i| i.item).collect()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| explain(e, &parts))
    }
}

/// The links a [`DynamoPosts::link_query`] page read.
fn links_of(items: Option<Vec<Item>>) -> Result<Vec<Neighbour>, StoreError> {
    items
        .unwrap_or_default()
        .into_iter()
        .map(from_item::<Neighbour>)
        .collect()
}

/// Turns a cancelled transaction into what the author should hear.
fn explain(
    err: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
    parts: &[Part],
) -> Failure {
    let reasons = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(t)) => {
            t.cancellation_reasons().to_vec()
        }
        _ => return Failure::Store(unavailable("writing the post", err)),
    };
    // A failed condition on the post or its new slug means another write got there
    // first: the retry's fresh read tells the author which (409 for a slug taken,
    // 412 for a newer version), as a first attempt would have.
    for (reason, part) in reasons.iter().zip(parts) {
        match (reason.code(), part) {
            (Some("ConditionalCheckFailed"), Part::Alias(alias)) => {
                return Failure::Store(StoreError::Conflict(format!(
                    "the alias {alias} already belongs to another post"
                )))
            }
            (Some("ConditionalCheckFailed" | "TransactionConflict"), _) => return Failure::Raced,
            _ => {}
        }
    }
    Failure::Raced
}

impl PostWriter for DynamoPosts {
    async fn current(&self, slug: &Slug) -> Result<Option<Versioned>, StoreError> {
        self.stored(slug).await
    }

    async fn index(&self) -> Result<Vec<IndexEntry>, StoreError> {
        let mut out = Vec::new();
        for (partition, draft) in [(PUBLISHED, false), (DRAFTS, true)] {
            let query = self
                .link_query()
                .index_name(BY_DATE)
                .key_condition_expression("gsi1pk = :p")
                .expression_attribute_values(":p", s(partition))
                .scan_index_forward(false);
            let items = self.query_all(query, "listing every post").await?;
            out.extend(links_of(Some(items))?.into_iter().map(|n| IndexEntry {
                slug: n.slug,
                title: n.title,
                date: n.date,
                draft,
            }));
        }
        out.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.slug.cmp(&b.slug)));
        Ok(out)
    }

    async fn save(
        &self,
        slug: &Slug,
        post: Post,
        _source: &str,
        expected: Expected,
    ) -> Result<Written, StoreError> {
        self.write(slug, Some(post), expected).await
    }

    async fn delete(&self, slug: &Slug, version: u64) -> Result<Written, StoreError> {
        self.write(slug, None, Expected::Version(version)).await
    }
}
