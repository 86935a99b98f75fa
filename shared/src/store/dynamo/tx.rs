//! Building one write's `TransactWriteItems`, one section per kind of item, each
//! part with the condition that guards it (see `write` for why each holds).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::items::{
    alias_pk, item_size, key, post_pk, s, tag_pk, to_item, AliasItem, EntryItem, Item, PostItem,
    QueuedItem, SentItem, VersionsItem, ALIAS_SK, FEED_PK, MAX_ITEM_BYTES, POST_SK, SITE_PK,
};
use super::links::LinkPlan;
use crate::cdn::outbox::{Queued, Sent};
use crate::error::StoreError;
use crate::post::{post_path, Post, Slug};
use crate::rerender::SiteVersions;

/// What one part of the transaction guards, to explain a cancellation.
#[derive(Debug, Clone)]
pub(super) enum Part {
    /// One of the post's aliases: taken by another post, which no retry changes.
    Alias(String),
    /// Anything else (the post, its new slug, `SITE`, entries, links, the
    /// outbox): a failed condition means another write landed first.
    Other,
}

/// One part of the transaction, with what it guards and its size.
pub(super) struct TxItem {
    pub item: TransactWriteItem,
    pub part: Part,
    pub size: usize,
}

/// A condition with its expression attribute names and values.
#[derive(Default)]
struct Guard {
    condition: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Guard {
    fn when(condition: &str) -> Self {
        Self {
            condition: Some(condition.to_owned()),
            ..Self::default()
        }
    }

    fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// The item is still at `version`.
    fn at_version(version: u64) -> Self {
        Self::when("#ver = :v")
            .name("#ver", "version")
            .value(":v", AttributeValue::N(version.to_string()))
    }
}

fn some<T>(map: HashMap<String, T>) -> Option<HashMap<String, T>> {
    (!map.is_empty()).then_some(map)
}

fn built<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(format!("cannot build the request: {e}"))
}

/// Applies a guard to a Put, Delete or Update builder and builds it.
macro_rules! guarded {
    ($builder:expr, $guard:expr) => {{
        let Guard {
            condition,
            names,
            values,
        } = $guard;
        $builder
            .set_condition_expression(condition)
            .set_expression_attribute_names(some(names))
            .set_expression_attribute_values(some(values))
            .build()
            .map_err(built)?
    }};
}

/// Sizes counted for parts that carry no item (DynamoDB counts their keys and
/// expressions; these are generous upper bounds).
const DELETE_BYTES: usize = 100;
const UPDATE_BYTES: usize = 300;

/// The transaction being built.
pub(super) struct Tx<'a> {
    table: &'a str,
    pub items: Vec<TxItem>,
}

impl<'a> Tx<'a> {
    pub fn new(table: &'a str) -> Self {
        Self {
            table,
            items: Vec::new(),
        }
    }

    fn push(&mut self, item: TransactWriteItem, part: Part, size: usize) {
        self.items.push(TxItem { item, part, size });
    }

    fn put(&mut self, item: Item, guard: Guard, part: Part) -> Result<(), StoreError> {
        let size = item_size(&item);
        let builder = Put::builder().table_name(self.table).set_item(Some(item));
        let put = guarded!(builder, guard);
        self.push(TransactWriteItem::builder().put(put).build(), part, size);
        Ok(())
    }

    fn delete(&mut self, pk: String, sk: &str, guard: Guard, part: Part) -> Result<(), StoreError> {
        let builder = Delete::builder()
            .table_name(self.table)
            .set_key(Some(key(pk, sk)));
        let del = guarded!(builder, guard);
        let item = TransactWriteItem::builder().delete(del).build();
        self.push(item, part, DELETE_BYTES);
        Ok(())
    }

    fn update(
        &mut self,
        key: Item,
        expression: String,
        guard: Guard,
        part: Part,
    ) -> Result<(), StoreError> {
        let builder = Update::builder()
            .table_name(self.table)
            .set_key(Some(key))
            .update_expression(expression);
        let update = guarded!(builder, guard);
        let item = TransactWriteItem::builder().update(update).build();
        self.push(item, part, UPDATE_BYTES);
        Ok(())
    }

    /// The post: put at `version`, conditional on absence or on the version it
    /// replaces (`before`); a rename deletes the old item and puts the new one; a
    /// delete deletes.
    pub fn post(
        &mut self,
        slug: &Slug,
        before: Option<u64>,
        new: Option<&Post>,
        version: u64,
    ) -> Result<(), StoreError> {
        let renamed = new.is_some_and(|p| p.slug != *slug);
        if let Some(b) = before.filter(|_| renamed || new.is_none()) {
            self.delete(post_pk(slug), POST_SK, Guard::at_version(b), Part::Other)?;
        }
        let Some(p) = new else { return Ok(()) };
        let item = to_item(&PostItem::new(p.clone(), version))?;
        let size = item_size(&item);
        if size > MAX_ITEM_BYTES {
            return Err(StoreError::TooLarge {
                what: format!("post \"{}\" with its rendered HTML", p.slug),
                size,
                limit: MAX_ITEM_BYTES,
            });
        }
        match before.filter(|_| !renamed) {
            Some(b) => self.put(item, Guard::at_version(b), Part::Other),
            None => self.put(item, Guard::when("attribute_not_exists(pk)"), Part::Other),
        }
    }

    /// Feed and tag entries: the old keys the new post does not reuse go, the new
    /// ones are put (the post's own condition guards them).
    pub fn entries(&mut self, old: Option<&Post>, new: Option<&Post>) -> Result<(), StoreError> {
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
            self.delete(pk.clone(), sk, Guard::default(), Part::Other)?;
        }
        if let Some(p) = new.filter(|p| !p.draft) {
            for (pk, _) in &new_keys {
                let item = to_item(&EntryItem::new(pk.clone(), p))?;
                self.put(item, Guard::default(), Part::Other)?;
            }
        }
        Ok(())
    }

    /// Aliases: each must be free or already this post's; the ones it dropped go.
    pub fn aliases(
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
        for alias in old_aliases.difference(&new_aliases) {
            let guard = Guard::when("attribute_not_exists(pk) OR slug = :mine")
                .value(":mine", s(slug.as_str()));
            self.delete(alias_pk(alias), ALIAS_SK, guard, Part::Alias(alias.clone()))?;
        }
        let Some(p) = new else { return Ok(()) };
        let renamed = p.slug != *slug;
        for alias in new_aliases
            .iter()
            .filter(|a| renamed || !old_aliases.contains(*a))
        {
            let item = to_item(&AliasItem::new(alias, p.slug.clone()))?;
            let guard = Guard::when("attribute_not_exists(pk) OR slug = :old OR slug = :new")
                .value(":old", s(slug.as_str()))
                .value(":new", s(p.slug.as_str()));
            self.put(item, guard, Part::Alias(alias.clone()))?;
        }
        Ok(())
    }

    /// The neighbours' link updates, each conditional on the neighbour existing.
    pub fn links(&mut self, plan: &LinkPlan) -> Result<(), StoreError> {
        for (other, update) in &plan.updates {
            let (mut sets, mut removes) = (Vec::new(), Vec::new());
            let mut guard = Guard::when("attribute_exists(pk)");
            for (name, link) in [("previous", &update.previous), ("next", &update.next)] {
                let Some(link) = link else { continue };
                guard = guard.name(&format!("#{name}"), name);
                match link {
                    Some(n) => {
                        sets.push(format!("#{name} = :{name}"));
                        let value = serde_dynamo::to_attribute_value(n).map_err(|e| {
                            StoreError::Corrupt(format!("cannot encode a link: {e}"))
                        })?;
                        guard = guard.value(&format!(":{name}"), value);
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
            let target = key(post_pk(other), POST_SK);
            self.update(target, expression.join(" "), guard, Part::Other)?;
        }
        Ok(())
    }

    /// The write's invalidation, queued in the outbox: it commits with the post or
    /// not at all. Its id is the site revision the write makes, so it is unique.
    pub fn outbox(&mut self, queued: Queued) -> Result<(), StoreError> {
        let item = to_item(&QueuedItem::new(queued))?;
        self.put(item, Guard::when("attribute_not_exists(pk)"), Part::Other)
    }

    /// Removes drained entries (already gone is fine: two drains may race).
    pub fn drained(&mut self, pk: String, sk: &str) -> Result<(), StoreError> {
        self.delete(pk, sk, Guard::default(), Part::Other)
    }

    /// The record of a sent batch.
    pub fn sent(&mut self, sent: &Sent) -> Result<(), StoreError> {
        let item = to_item(&SentItem::new(sent.clone()))?;
        self.put(item, Guard::default(), Part::Other)
    }

    /// The site's versions, replacing `from` only while it is still recorded.
    pub fn versions(
        &mut self,
        from: Option<&SiteVersions>,
        to: &SiteVersions,
    ) -> Result<(), StoreError> {
        let item = to_item(&VersionsItem::new(to.clone()))?;
        let guard = match from {
            None => Guard::when("attribute_not_exists(pk)"),
            Some(seen) => Guard::when("#r = :r AND #p = :p")
                .name("#r", "renderer")
                .name("#p", "pages")
                .value(":r", s(&seen.renderer))
                .value(":p", s(&seen.pages)),
        };
        self.put(item, guard, Part::Other)
    }

    /// The site revision: the lock that keeps neighbour updates from interleaving.
    pub fn site(&mut self, revision: Option<u64>) -> Result<(), StoreError> {
        let next = AttributeValue::N((revision.unwrap_or(0) + 1).to_string());
        let guard = match revision {
            None => Guard::when("attribute_not_exists(pk)"),
            Some(r) => Guard::when("#rev = :seen").value(":seen", AttributeValue::N(r.to_string())),
        };
        let guard = guard.name("#rev", "revision").value(":next", next);
        let target = key(SITE_PK.to_owned(), SITE_PK);
        self.update(target, "SET #rev = :next".to_owned(), guard, Part::Other)
    }
}
