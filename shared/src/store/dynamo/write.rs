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

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::links::{self, LinkPlan};
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

    /// Reads what the write depends on, checks the author's expectation, and sends
    /// one transaction built from it.
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
        expected.check(slug, before.as_ref().map(|b| b.version))?;
        // Read after the revision: a post created meanwhile changes it, and this
        // transaction's revision condition then fails and the check runs again.
        for (alias, owner) in new.iter().flat_map(|p| crate::store::alias_pages(p, slug)) {
            if self
                .consistent_get(post_pk(&owner), "POST")
                .await?
                .is_some()
            {
                return Err(crate::store::alias_page_taken(alias, &owner).into());
            }
        }
        let renamed_to = new.as_ref().map(|p| &p.slug).filter(|s| *s != slug);
        if let Some(target) = renamed_to {
            if self.stored(target).await?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "cannot rename \"{slug}\" to \"{target}\": a post with that slug exists"
                ))
                .into());
            }
        }
        let old: Option<Post> = before.clone().map(PostItem::into_post);
        let (new, links) = self.link(slug, old.as_ref(), new).await?;
        let version = before.as_ref().map_or(1, |b| b.version + 1);

        let mut tx = Tx::new(&self.table);
        tx.post(slug, before.as_ref(), new.as_ref(), version)?;
        tx.entries(old.as_ref(), new.as_ref())?;
        tx.aliases(slug, old.as_ref(), new.as_ref())?;
        tx.links(&links)?;
        tx.site(revision)?;
        self.send(tx, slug).await?;
        Ok(Written {
            before: old,
            after: new.map(|post| Versioned { post, version }),
            relinked: links.relinked,
        })
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
            .map_err(|e| explain(e, &parts, slug))
    }
}

/// One part of the transaction, with what it guards and its size.
struct TxItem {
    item: TransactWriteItem,
    part: Part,
    size: usize,
}

/// The transaction being built, one section per kind of item.
struct Tx<'a> {
    table: &'a str,
    items: Vec<TxItem>,
}

/// Expression attribute names and values for one operation.
type Names = HashMap<String, String>;
type Values = HashMap<String, AttributeValue>;

fn some<T>(map: HashMap<String, T>) -> Option<HashMap<String, T>> {
    (!map.is_empty()).then_some(map)
}

impl<'a> Tx<'a> {
    fn new(table: &'a str) -> Self {
        Self {
            table,
            items: Vec::new(),
        }
    }

    fn put(
        &mut self,
        item: Item,
        condition: Option<&str>,
        names: Names,
        values: Values,
        part: Part,
    ) -> Result<(), StoreError> {
        let size = item_size(&item);
        let put = Put::builder()
            .table_name(self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(some(names))
            .set_expression_attribute_values(some(values))
            .build()
            .map_err(built)?;
        self.items.push(TxItem {
            item: TransactWriteItem::builder().put(put).build(),
            part,
            size,
        });
        Ok(())
    }

    fn delete(
        &mut self,
        pk: String,
        sk: &str,
        condition: Option<&str>,
        names: Names,
        values: Values,
        part: Part,
    ) -> Result<(), StoreError> {
        let del = Delete::builder()
            .table_name(self.table)
            .set_key(Some(key(pk, sk)))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(some(names))
            .set_expression_attribute_values(some(values))
            .build()
            .map_err(built)?;
        self.items.push(TxItem {
            item: TransactWriteItem::builder().delete(del).build(),
            part,
            size: 100,
        });
        Ok(())
    }

    fn update(
        &mut self,
        key: HashMap<String, AttributeValue>,
        expression: String,
        condition: &str,
        names: Names,
        values: Values,
        part: Part,
    ) -> Result<(), StoreError> {
        let update = Update::builder()
            .table_name(self.table)
            .set_key(Some(key))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(some(names))
            .set_expression_attribute_values(some(values))
            .build()
            .map_err(built)?;
        self.items.push(TxItem {
            item: TransactWriteItem::builder().update(update).build(),
            part,
            size: 300,
        });
        Ok(())
    }

    /// The post: put at `version`, conditional on absence or on the version it
    /// replaces; a rename deletes the old item and puts the new one; a delete deletes.
    fn post(
        &mut self,
        slug: &Slug,
        before: Option<&PostItem>,
        new: Option<&Post>,
        version: u64,
    ) -> Result<(), StoreError> {
        let at_version = |b: &PostItem| {
            (
                HashMap::from([("#ver".to_owned(), "version".to_owned())]),
                HashMap::from([(":v".to_owned(), AttributeValue::N(b.version.to_string()))]),
            )
        };
        let renamed = new.is_some_and(|p| p.slug != *slug);
        if let Some(b) = before.filter(|_| renamed || new.is_none()) {
            let (names, values) = at_version(b);
            self.delete(
                post_pk(slug),
                "POST",
                Some("#ver = :v"),
                names,
                values,
                Part::Post,
            )?;
        }
        if let Some(p) = new {
            let item = to_item(&PostItem::new(p, version))?;
            check_item(&item, p)?;
            match before.filter(|_| !renamed) {
                Some(b) => {
                    let (names, values) = at_version(b);
                    self.put(item, Some("#ver = :v"), names, values, Part::Post)?;
                }
                None => {
                    let part = if renamed {
                        Part::NewSlug(p.slug.clone())
                    } else {
                        Part::Post
                    };
                    self.put(
                        item,
                        Some("attribute_not_exists(pk)"),
                        Names::new(),
                        Values::new(),
                        part,
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Feed and tag entries: the old keys the new post does not reuse go, the new
    /// ones are put (the post's own condition guards them).
    fn entries(&mut self, old: Option<&Post>, new: Option<&Post>) -> Result<(), StoreError> {
        let keys = |p: Option<&Post>| -> BTreeSet<(String, String)> {
            p.filter(|p| !p.draft)
                .map(|p| {
                    let sk = p.sort_key().as_str().to_owned();
                    std::iter::once((FEED_PK.to_owned(), sk.clone()))
                        .chain(p.tags.iter().map(|t| (tag_pk(t), sk.clone())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (old_keys, new_keys) = (keys(old), keys(new));
        for (pk, sk) in old_keys.difference(&new_keys) {
            self.delete(
                pk.clone(),
                sk,
                None,
                Names::new(),
                Values::new(),
                Part::Other,
            )?;
        }
        if let Some(p) = new.filter(|p| !p.draft) {
            for (pk, _) in &new_keys {
                let item = to_item(&EntryItem::new(pk.clone(), p))?;
                self.put(item, None, Names::new(), Values::new(), Part::Other)?;
            }
        }
        Ok(())
    }

    /// Aliases: each must be free or already this post's; the ones it dropped go.
    fn aliases(
        &mut self,
        slug: &Slug,
        old: Option<&Post>,
        new: Option<&Post>,
    ) -> Result<(), StoreError> {
        let of = |p: Option<&Post>| -> BTreeSet<String> {
            p.map(|p| {
                p.aliases
                    .iter()
                    .filter(|a| **a != post_path(&p.slug))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
        };
        let (old_aliases, new_aliases) = (of(old), of(new));
        let mine = |name: &str, s: &Slug| HashMap::from([(name.to_owned(), s_value(s))]);
        for alias in old_aliases.difference(&new_aliases) {
            let cond = "attribute_not_exists(pk) OR slug = :mine";
            self.delete(
                alias_pk(alias),
                "ALIAS",
                Some(cond),
                Names::new(),
                mine(":mine", slug),
                Part::Alias(alias.clone()),
            )?;
        }
        let Some(p) = new else { return Ok(()) };
        let renamed = p.slug != *slug;
        for alias in new_aliases
            .iter()
            .filter(|a| renamed || !old_aliases.contains(*a))
        {
            let item = to_item(&AliasItem {
                pk: alias_pk(alias),
                sk: "ALIAS".into(),
                slug: p.slug.clone(),
            })?;
            let mut values = mine(":old", slug);
            values.extend(mine(":new", &p.slug));
            let cond = "attribute_not_exists(pk) OR slug = :old OR slug = :new";
            self.put(
                item,
                Some(cond),
                Names::new(),
                values,
                Part::Alias(alias.clone()),
            )?;
        }
        Ok(())
    }

    /// The neighbours' link updates, each conditional on the neighbour existing.
    fn links(&mut self, plan: &LinkPlan) -> Result<(), StoreError> {
        for (other, update) in &plan.updates {
            let (mut sets, mut removes) = (Vec::new(), Vec::new());
            let (mut names, mut values) = (Names::new(), Values::new());
            for (name, link) in [("previous", &update.previous), ("next", &update.next)] {
                let Some(link) = link else { continue };
                names.insert(format!("#{name}"), name.to_owned());
                match link {
                    Some(n) => {
                        sets.push(format!("#{name} = :{name}"));
                        let value = serde_dynamo::to_attribute_value(n).map_err(|e| {
                            StoreError::Corrupt(format!("cannot encode a link: {e}"))
                        })?;
                        values.insert(format!(":{name}"), value);
                    }
                    None => removes.push(format!("#{name}")),
                }
            }
            let mut expression = Vec::new();
            if !sets.is_empty() {
                expression.push(format!("SET {}", sets.join(", ")));
            }
            if !removes.is_empty() {
                expression.push(format!("REMOVE {}", removes.join(", ")));
            }
            self.update(
                key(post_pk(other), "POST"),
                expression.join(" "),
                "attribute_exists(pk)",
                names,
                values,
                Part::Other,
            )?;
        }
        Ok(())
    }

    /// The site revision: the lock that keeps neighbour updates from interleaving.
    fn site(&mut self, revision: Option<u64>) -> Result<(), StoreError> {
        let names = HashMap::from([("#rev".to_owned(), "revision".to_owned())]);
        let mut values = HashMap::from([(
            ":next".to_owned(),
            AttributeValue::N((revision.unwrap_or(0) + 1).to_string()),
        )]);
        let condition = match revision {
            None => "attribute_not_exists(pk)",
            Some(r) => {
                values.insert(":seen".to_owned(), AttributeValue::N(r.to_string()));
                "#rev = :seen"
            }
        };
        self.update(
            key(SITE_PK.to_owned(), SITE_PK),
            "SET #rev = :next".to_owned(),
            condition,
            names,
            values,
            Part::Site,
        )
    }
}

fn s_value(slug: &Slug) -> AttributeValue {
    AttributeValue::S(slug.as_str().to_owned())
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
