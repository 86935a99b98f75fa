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
//! Neighbours are found in the `FEED` run with strongly consistent queries (the
//! index is eventually consistent). DynamoDB applies all or nothing, so a failure
//! at any step leaves the table as it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::{
    alias_pk, from_item, item_size, post_pk, tag_pk, to_item, unavailable, AliasItem, DynamoPosts,
    EntryItem, Item, PostItem, BY_DATE, DRAFTS, FEED_PK, MAX_ITEM_BYTES, MAX_TRANSACTION_BYTES,
    PUBLISHED,
};
use crate::error::StoreError;
use crate::post::{post_path, Neighbour, Post, Slug, SortKey};
use crate::store::{Expected, IndexEntry, PostWriter, Versioned, Written};

const SITE_PK: &str = "SITE";
/// How many times a publish that lost the `SITE` race re-reads and tries again.
const ATTEMPTS: usize = 5;
/// DynamoDB's limit of items per transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

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

/// What one part of the transaction guards, to explain a cancellation.
#[derive(Debug, Clone)]
enum Part {
    Post,
    NewSlug(Slug),
    Alias(String),
    Other,
    Site,
}

/// A neighbour's planned links: `Some(x)` sets the link to `x` (`None` removes it).
#[derive(Debug, Default, Clone, PartialEq)]
struct Links {
    previous: Option<Option<Neighbour>>,
    next: Option<Option<Neighbour>>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn key(pk: String, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn built<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(format!("cannot build the request: {e}"))
}

impl DynamoPosts {
    async fn consistent_get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading before a write", e))?;
        Ok(out.item)
    }

    async fn stored(&self, slug: &Slug) -> Result<Option<PostItem>, StoreError> {
        self.consistent_get(post_pk(slug), "POST")
            .await?
            .map(from_item::<PostItem>)
            .transpose()
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
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .expression_attribute_values(":pk", s(FEED_PK))
            .expression_attribute_values(":k", s(key.as_str()))
            .expression_attribute_names("#t", "title")
            .expression_attribute_names("#d", "date")
            .projection_expression("slug, #t, #d")
            .scan_index_forward(newer)
            .consistent_read(true)
            .limit(2)
            .send()
            .await
            .map_err(|e| unavailable("finding the neighbouring posts", e))?;
        for item in out.items.unwrap_or_default() {
            let n: Neighbour = serde_dynamo::from_item(item)
                .map_err(|e| StoreError::Corrupt(format!("feed entry: {e}")))?;
            if n.slug != *skip {
                return Ok(Some(n));
            }
        }
        Ok(None)
    }

    async fn write(
        &self,
        slug: &Slug,
        new: Option<Post>,
        expected: Expected,
    ) -> Result<Written, StoreError> {
        for _ in 0..ATTEMPTS {
            match self.attempt(slug, new.clone(), expected).await {
                Ok(w) => return Ok(w),
                Err(Failure::Store(e)) => return Err(e),
                Err(Failure::Raced) => {
                    tracing::info!(%slug, "another publish landed first; retrying with fresh reads");
                }
            }
        }
        Err(StoreError::Conflict(format!(
            "other publishes kept changing the site while \"{slug}\" was written; nothing was changed, try again"
        )))
    }

    #[allow(clippy::too_many_lines)]
    async fn attempt(
        &self,
        slug: &Slug,
        new: Option<Post>,
        expected: Expected,
    ) -> Result<Written, Failure> {
        let revision: Option<u64> = self
            .consistent_get(SITE_PK.to_owned(), SITE_PK)
            .await?
            .and_then(|item| item.get("revision")?.as_n().ok()?.parse().ok());
        let before = self.stored(slug).await?;
        match (&expected, &before) {
            (Expected::Absent, Some(_)) => {
                return Err(StoreError::Conflict(format!(
                    "a post with the slug \"{slug}\" already exists: update it with PUT and If-Match, or choose another slug"
                ))
                .into())
            }
            (Expected::Version(_), None) => {
                return Err(StoreError::Stale(format!("the post \"{slug}\" no longer exists")).into())
            }
            (Expected::Version(want), Some(b)) if b.version != *want => {
                return Err(StoreError::Stale(format!(
                    "the post \"{slug}\" changed since version {want} (it is at {}): fetch it again and reapply your edit",
                    b.version
                ))
                .into())
            }
            _ => {}
        }
        let renamed = new.as_ref().is_some_and(|p| p.slug != *slug);
        if let Some(p) = new.as_ref().filter(|_| renamed) {
            if self.stored(&p.slug).await?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "cannot rename \"{slug}\" to \"{}\": a post with that slug exists",
                    p.slug
                ))
                .into());
            }
        }
        let old: Option<Post> = before.as_ref().map(clone_post);
        let old_listed = old.as_ref().filter(|p| !p.draft);
        let mut new = new;

        // Links: close the gap the post leaves, then open one where it lands.
        let mut plan: BTreeMap<Slug, Links> = BTreeMap::new();
        let mut current: BTreeMap<Slug, Links> = BTreeMap::new();
        let mut who: HashMap<Slug, Neighbour> = HashMap::new();
        if let Some(o) = old_listed {
            let me = Some(Neighbour::of(o));
            if let Some(p) = &o.previous {
                plan.entry(p.slug.clone()).or_default().next = Some(o.next.clone());
                current.entry(p.slug.clone()).or_default().next = Some(me.clone());
                who.insert(p.slug.clone(), p.clone());
            }
            if let Some(n) = &o.next {
                plan.entry(n.slug.clone()).or_default().previous = Some(o.previous.clone());
                current.entry(n.slug.clone()).or_default().previous = Some(me.clone());
                who.insert(n.slug.clone(), n.clone());
            }
        }
        if let Some(p) = new.as_mut().filter(|p| !p.draft) {
            let key = p.sort_key();
            let older = self.beside(&key, false, slug).await?;
            let newer = self.beside(&key, true, slug).await?;
            let me = Some(Neighbour::of(p));
            let sits_after = |n: &Neighbour, link: &Option<Neighbour>| {
                old_listed.is_some() && link.as_ref().is_some_and(|l| l.slug == n.slug)
            };
            if let Some(o) = &older {
                plan.entry(o.slug.clone()).or_default().next = Some(me.clone());
                let was = match old_listed {
                    Some(b) if sits_after(o, &b.previous) => Some(Neighbour::of(b)),
                    _ => newer.clone(),
                };
                current.entry(o.slug.clone()).or_default().next = Some(was);
                who.insert(o.slug.clone(), o.clone());
            }
            if let Some(n) = &newer {
                plan.entry(n.slug.clone()).or_default().previous = Some(me.clone());
                let was = match old_listed {
                    Some(b) if sits_after(n, &b.next) => Some(Neighbour::of(b)),
                    _ => older.clone(),
                };
                current.entry(n.slug.clone()).or_default().previous = Some(was);
                who.insert(n.slug.clone(), n.clone());
            }
            p.previous = older;
            p.next = newer;
        } else if let Some(p) = new.as_mut() {
            p.previous = None;
            p.next = None;
        }
        plan.remove(slug);
        if let Some(p) = &new {
            plan.remove(&p.slug);
        }

        let mut tx: Vec<(TransactWriteItem, Part, usize)> = Vec::new();
        let version = before.as_ref().map_or(1, |b| b.version + 1);

        // The post itself.
        let at_version = |b: &PostItem| (":v".to_owned(), AttributeValue::N(b.version.to_string()));
        match (&new, &before) {
            (Some(p), b) if !renamed => {
                let item = to_item(&PostItem::new(p, version))?;
                check_item(&item, p)?;
                let mut put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item.clone()));
                put = match b {
                    None => put.condition_expression("attribute_not_exists(pk)"),
                    Some(b) => {
                        let (k, v) = at_version(b);
                        put.condition_expression("#ver = :v")
                            .expression_attribute_names("#ver", "version")
                            .expression_attribute_values(k, v)
                    }
                };
                let size = item_size(&item);
                tx.push((
                    TransactWriteItem::builder()
                        .put(put.build().map_err(built)?)
                        .build(),
                    Part::Post,
                    size,
                ));
            }
            (Some(p), Some(b)) => {
                let (k, v) = at_version(b);
                let del = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(post_pk(slug), "POST")))
                    .condition_expression("#ver = :v")
                    .expression_attribute_names("#ver", "version")
                    .expression_attribute_values(k, v)
                    .build()
                    .map_err(built)?;
                tx.push((
                    TransactWriteItem::builder().delete(del).build(),
                    Part::Post,
                    100,
                ));
                let item = to_item(&PostItem::new(p, version))?;
                check_item(&item, p)?;
                let size = item_size(&item);
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(built)?;
                tx.push((
                    TransactWriteItem::builder().put(put).build(),
                    Part::NewSlug(p.slug.clone()),
                    size,
                ));
            }
            (None, Some(b)) => {
                let (k, v) = at_version(b);
                let del = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(post_pk(slug), "POST")))
                    .condition_expression("#ver = :v")
                    .expression_attribute_names("#ver", "version")
                    .expression_attribute_values(k, v)
                    .build()
                    .map_err(built)?;
                tx.push((
                    TransactWriteItem::builder().delete(del).build(),
                    Part::Post,
                    100,
                ));
            }
            (_, None) => {
                return Err(
                    StoreError::Stale(format!("the post \"{slug}\" no longer exists")).into(),
                )
            }
        }

        // Feed and tag entries: drop the old keys the new post does not reuse.
        let entry_keys = |p: Option<&Post>| -> BTreeSet<(String, String)> {
            p.filter(|p| !p.draft)
                .map(|p| {
                    let sk = p.sort_key().as_str().to_owned();
                    std::iter::once((FEED_PK.to_owned(), sk.clone()))
                        .chain(p.tags.iter().map(|t| (tag_pk(t), sk.clone())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let old_keys = entry_keys(old.as_ref());
        let new_keys = entry_keys(new.as_ref());
        for (pk, sk) in old_keys.difference(&new_keys) {
            let del = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), sk)))
                .build()
                .map_err(built)?;
            tx.push((
                TransactWriteItem::builder().delete(del).build(),
                Part::Other,
                100,
            ));
        }
        if let Some(p) = new.as_ref().filter(|p| !p.draft) {
            for (pk, _) in &new_keys {
                let item = to_item(&EntryItem::new(pk.clone(), p))?;
                let size = item_size(&item);
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .build()
                    .map_err(built)?;
                tx.push((
                    TransactWriteItem::builder().put(put).build(),
                    Part::Other,
                    size,
                ));
            }
        }

        // Aliases: free or already this post's; the ones it dropped go.
        let aliases = |p: Option<&Post>| -> BTreeSet<String> {
            p.map(|p| {
                p.aliases
                    .iter()
                    .filter(|a| **a != post_path(&p.slug))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
        };
        let old_aliases = aliases(old.as_ref());
        let new_aliases = aliases(new.as_ref());
        for alias in old_aliases.difference(&new_aliases) {
            let del = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(alias_pk(alias), "ALIAS")))
                .condition_expression("attribute_not_exists(pk) OR slug = :mine")
                .expression_attribute_values(":mine", s(slug.as_str()))
                .build()
                .map_err(built)?;
            tx.push((
                TransactWriteItem::builder().delete(del).build(),
                Part::Alias(alias.clone()),
                100,
            ));
        }
        if let Some(p) = &new {
            for alias in &new_aliases {
                if old_aliases.contains(alias) && !renamed {
                    continue;
                }
                let item = to_item(&AliasItem {
                    pk: alias_pk(alias),
                    sk: "ALIAS".into(),
                    slug: p.slug.clone(),
                })?;
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk) OR slug = :old OR slug = :new")
                    .expression_attribute_values(":old", s(slug.as_str()))
                    .expression_attribute_values(":new", s(p.slug.as_str()))
                    .build()
                    .map_err(built)?;
                tx.push((
                    TransactWriteItem::builder().put(put).build(),
                    Part::Alias(alias.clone()),
                    200,
                ));
            }
        }

        // Neighbours whose links really change.
        let mut relinked = Vec::new();
        for (other, links) in &plan {
            let now = current.get(other).cloned().unwrap_or_default();
            let mut sets = Vec::new();
            let mut removes = Vec::new();
            let mut values = HashMap::new();
            for (name, want, was) in [
                ("previous", &links.previous, &now.previous),
                ("next", &links.next, &now.next),
            ] {
                match want {
                    Some(w) if Some(w) != was.as_ref() => match w {
                        Some(n) => {
                            sets.push(format!("#{name} = :{name}"));
                            values.insert(
                                format!(":{name}"),
                                serde_dynamo::to_attribute_value(n).map_err(|e| {
                                    StoreError::Corrupt(format!("cannot encode a link: {e}"))
                                })?,
                            );
                        }
                        None => removes.push(format!("#{name}")),
                    },
                    _ => {}
                }
            }
            if sets.is_empty() && removes.is_empty() {
                continue;
            }
            let mut expr = String::new();
            if !sets.is_empty() {
                expr.push_str(&format!("SET {}", sets.join(", ")));
            }
            if !removes.is_empty() {
                expr.push_str(&format!(" REMOVE {}", removes.join(", ")));
            }
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(post_pk(other), "POST")))
                .update_expression(expr.trim())
                .set_expression_attribute_names(Some(
                    ["previous", "next"]
                        .into_iter()
                        .filter(|n| expr.contains(&format!("#{n}")))
                        .map(|n| (format!("#{n}"), n.to_owned()))
                        .collect(),
                ))
                .condition_expression("attribute_exists(pk)")
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .build()
                .map_err(built)?;
            tx.push((
                TransactWriteItem::builder().update(update).build(),
                Part::Other,
                300,
            ));
            if let Some(n) = who.get(other) {
                relinked.push(n.clone());
            }
        }

        // The site revision: the lock that keeps neighbour updates from interleaving.
        let next_revision = revision.unwrap_or(0) + 1;
        let mut site = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(SITE_PK.to_owned(), SITE_PK)))
            .update_expression("SET #rev = :next")
            .expression_attribute_names("#rev", "revision")
            .expression_attribute_values(":next", AttributeValue::N(next_revision.to_string()));
        site = match revision {
            None => site.condition_expression("attribute_not_exists(pk)"),
            Some(r) => site
                .condition_expression("#rev = :seen")
                .expression_attribute_values(":seen", AttributeValue::N(r.to_string())),
        };
        tx.push((
            TransactWriteItem::builder()
                .update(site.build().map_err(built)?)
                .build(),
            Part::Site,
            50,
        ));

        if tx.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::TooLarge {
                what: format!(
                    "the write of \"{slug}\" ({} changes: tags, aliases, links)",
                    tx.len()
                ),
                size: tx.len(),
                limit: MAX_TRANSACTION_ITEMS,
            }
            .into());
        }
        let total: usize = tx.iter().map(|(_, _, size)| size).sum();
        if total > MAX_TRANSACTION_BYTES {
            return Err(StoreError::TooLarge {
                what: format!("post \"{slug}\" with its feed and tag entries"),
                size: total,
                limit: MAX_TRANSACTION_BYTES,
            }
            .into());
        }
        let parts: Vec<Part> = tx.iter().map(|(_, p, _)| p.clone()).collect();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(tx.into_iter().map(|(t, _, _)| t).collect()))
            .send()
            .await;
        if let Err(e) = result {
            return Err(explain(e, &parts, slug));
        }
        Ok(Written {
            before: old,
            after: new.map(|post| Versioned { post, version }),
            relinked,
        })
    }
}

/// Turns a cancelled transaction into what the author should hear.
fn explain(
    err: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
    parts: &[Part],
    slug: &Slug,
) -> Failure {
    let reasons = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(t)) => {
            t.cancellation_reasons().to_vec()
        }
        _ => return Failure::Store(unavailable("writing the post", err)),
    };
    for (reason, part) in reasons.iter().zip(parts) {
        match (reason.code(), part) {
            (Some("ConditionalCheckFailed"), Part::Post) => {
                return Failure::Store(StoreError::Stale(format!(
                    "the post \"{slug}\" changed while it was being written: fetch it again and reapply your edit"
                )))
            }
            (Some("ConditionalCheckFailed"), Part::NewSlug(new)) => {
                return Failure::Store(StoreError::Conflict(format!(
                    "a post with the slug \"{new}\" already exists"
                )))
            }
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

fn check_item(item: &Item, post: &Post) -> Result<(), StoreError> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::TooLarge {
            what: format!("post \"{}\" with its rendered HTML", post.slug),
            size,
            limit: MAX_ITEM_BYTES,
        });
    }
    Ok(())
}

fn clone_post(item: &PostItem) -> Post {
    PostItem {
        pk: String::new(),
        sk: String::new(),
        gsi1pk: None,
        gsi1sk: None,
        version: item.version,
        slug: item.slug.clone(),
        title: item.title.clone(),
        date: item.date,
        updated: item.updated,
        draft: item.draft,
        tags: item.tags.clone(),
        description: item.description.clone(),
        aliases: item.aliases.clone(),
        image: item.image.clone(),
        markdown: item.markdown.clone(),
        html: item.html.clone(),
        summary_html: item.summary_html.clone(),
        toc: item.toc.clone(),
        reading_minutes: item.reading_minutes,
        previous: item.previous.clone(),
        next: item.next.clone(),
    }
    .into_post()
}

impl PostWriter for DynamoPosts {
    async fn current(&self, slug: &Slug) -> Result<Option<Versioned>, StoreError> {
        Ok(self.stored(slug).await?.map(|item| Versioned {
            version: item.version,
            post: item.into_post(),
        }))
    }

    async fn index(&self) -> Result<Vec<IndexEntry>, StoreError> {
        let mut out = Vec::new();
        for (partition, draft) in [(PUBLISHED, false), (DRAFTS, true)] {
            let mut start = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(BY_DATE)
                    .key_condition_expression("gsi1pk = :p")
                    .expression_attribute_values(":p", s(partition))
                    .expression_attribute_names("#t", "title")
                    .expression_attribute_names("#d", "date")
                    .projection_expression("slug, #t, #d")
                    .scan_index_forward(false)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| unavailable("listing every post", e))?;
                for item in page.items.unwrap_or_default() {
                    let n: Neighbour = serde_dynamo::from_item(item)
                        .map_err(|e| StoreError::Corrupt(format!("index entry: {e}")))?;
                    out.push(IndexEntry {
                        slug: n.slug,
                        title: n.title,
                        date: n.date,
                        draft,
                    });
                }
                start = page.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
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
