//! The DynamoDB store, one table:
//!
//! | item | pk | sk | carries |
//! |---|---|---|---|
//! | post | `POST#<slug>` | `POST` | every field, the rendered HTML, `version`; `gsi1pk`=`PUBLISHED` (or `DRAFT`), `gsi1sk`=`<sort key>` |
//! | feed entry | `FEED` | `<sort key>` | listing fields + HTML, published posts only |
//! | tag entry | `TAG#<tag>` | `<sort key>` | listing fields + HTML, published posts only |
//! | alias | `ALIAS#<path>` | `ALIAS` | the slug it redirects to |
//! | site | `SITE` | `SITE` | `revision`, bumped by every publish (see `write`) |
//!
//! The sparse index `byDate` (gsi1pk, gsi1sk) projects only listing fields. A page
//! view is one request: GetItem for a post, one Query for a listing, a tag page or a
//! feed. Pages follow the sort key (`?before=`/`?after=`), never a Scan. A post and
//! its entries are written in one transaction, conditional on what the writer saw.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Cursor, ListQuery, Listing, Posts, TagCount};

mod links;
mod write;
use crate::error::StoreError;
use crate::post::{
    FeedEntry, Neighbour, Post, PostDate, PostSummary, Slug, SortKey, Tag, TocEntry,
};

/// Name of the sparse index of published posts by date.
pub const BY_DATE: &str = "byDate";
/// Non-key attributes the index projects: exactly what a listing shows.
pub const LISTING_ATTRIBUTES: [&str; 8] = [
    "slug",
    "title",
    "date",
    "updated",
    "tags",
    "description",
    "summary_html",
    "reading_minutes",
];
/// DynamoDB's item size limit.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's limit for one transaction.
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// Posts in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoPosts {
    client: Client,
    table: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PostItem {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    version: u64,
    slug: Slug,
    title: String,
    date: PostDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated: Option<PostDate>,
    draft: bool,
    tags: Vec<Tag>,
    description: String,
    aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    markdown: String,
    html: String,
    summary_html: String,
    toc: Vec<TocEntry>,
    reading_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<Neighbour>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<Neighbour>,
}

/// A feed or tag entry, or a post seen through the index (then without `html`).
#[derive(Debug, Serialize, Deserialize)]
struct EntryItem {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pk: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    sk: String,
    slug: Slug,
    title: String,
    date: PostDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated: Option<PostDate>,
    tags: Vec<Tag>,
    description: String,
    summary_html: String,
    reading_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    html: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AliasItem {
    pk: String,
    sk: String,
    slug: Slug,
}

fn post_pk(slug: &Slug) -> String {
    format!("POST#{slug}")
}

fn tag_pk(tag: &Tag) -> String {
    format!("TAG#{tag}")
}

fn alias_pk(path: &str) -> String {
    format!("ALIAS#{path}")
}

const FEED_PK: &str = "FEED";
const PUBLISHED: &str = "PUBLISHED";
const DRAFTS: &str = "DRAFT";

impl PostItem {
    fn new(post: &Post, version: u64) -> Self {
        let p = post.clone();
        // Drafts sit in their own partition of the index: only the author's index
        // of every post reads it.
        let partition = if post.draft { DRAFTS } else { PUBLISHED };
        Self {
            pk: post_pk(&p.slug),
            sk: "POST".into(),
            gsi1pk: Some(partition.to_owned()),
            gsi1sk: Some(post.sort_key().as_str().to_owned()),
            version,
            slug: p.slug,
            title: p.title,
            date: p.date,
            updated: p.updated,
            draft: p.draft,
            tags: p.tags,
            description: p.description,
            aliases: p.aliases,
            image: p.image,
            markdown: p.markdown,
            html: p.html,
            summary_html: p.summary_html,
            toc: p.toc,
            reading_minutes: p.reading_minutes,
            previous: p.previous,
            next: p.next,
        }
    }

    fn into_post(self) -> Post {
        Post {
            slug: self.slug,
            title: self.title,
            date: self.date,
            updated: self.updated,
            draft: self.draft,
            tags: self.tags,
            description: self.description,
            aliases: self.aliases,
            image: self.image,
            markdown: self.markdown,
            html: self.html,
            summary_html: self.summary_html,
            toc: self.toc,
            reading_minutes: self.reading_minutes,
            previous: self.previous,
            next: self.next,
        }
    }
}

impl EntryItem {
    fn new(pk: String, post: &Post) -> Self {
        Self {
            pk,
            sk: post.sort_key().as_str().to_owned(),
            slug: post.slug.clone(),
            title: post.title.clone(),
            date: post.date,
            updated: post.updated,
            tags: post.tags.clone(),
            description: post.description.clone(),
            summary_html: post.summary_html.clone(),
            reading_minutes: post.reading_minutes,
            html: Some(post.html.clone()),
        }
    }

    fn into_summary(self) -> PostSummary {
        PostSummary {
            slug: self.slug,
            title: self.title,
            date: self.date,
            updated: self.updated,
            tags: self.tags,
            description: self.description,
            summary_html: self.summary_html,
            reading_minutes: self.reading_minutes,
        }
    }
}

type Item = HashMap<String, AttributeValue>;

fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode item: {e}")))
}

fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    let pk = item
        .get("pk")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("item {pk}: {e}")))
}

fn unavailable<E: std::error::Error + Send + Sync + 'static>(
    context: &str,
    err: SdkError<E>,
) -> StoreError {
    StoreError::unavailable(
        context.to_owned(),
        aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string(),
    )
}

/// Which sorted run of entries a query reads.
enum Run<'a> {
    /// The sparse index: every published post, listing fields only.
    Index,
    /// `FEED` entries (with HTML).
    Feed,
    /// One tag's entries (with HTML).
    Tag(&'a Tag),
}

/// The smallest string above `key` that no real key can equal (slugs never hold a space).
fn just_after(key: &SortKey) -> String {
    format!("{} ", key.as_str())
}

impl DynamoPosts {
    /// A store over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Queries one run newest first (or oldest first for `After`), reading at most
    /// `limit` items and stopping early only at the end of the run. One request
    /// unless DynamoDB's 1 MB page limit cuts it short.
    async fn query(
        &self,
        run: &Run<'_>,
        cursor: &Cursor,
        limit: usize,
        now: DateTime<Utc>,
        with_html: bool,
    ) -> Result<Vec<EntryItem>, StoreError> {
        let upper = SortKey::upper_bound(now);
        let (pk_name, sk_name, pk) = match run {
            Run::Index => ("gsi1pk", "gsi1sk", PUBLISHED.to_owned()),
            Run::Feed => ("pk", "sk", FEED_PK.to_owned()),
            Run::Tag(t) => ("pk", "sk", tag_pk(t)),
        };
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(pk))]);
        let (condition, forward) = match cursor {
            Cursor::First => ("#pk = :pk AND #sk < :hi", false),
            Cursor::Before(k) => {
                values.insert(
                    ":hi".into(),
                    AttributeValue::S(k.clone().min(upper.clone()).as_str().to_owned()),
                );
                ("#pk = :pk AND #sk < :hi", false)
            }
            Cursor::After(k) => {
                let lo = just_after(k);
                if lo.as_str() >= upper.as_str() {
                    return Ok(Vec::new());
                }
                values.insert(":lo".into(), AttributeValue::S(lo));
                ("#pk = :pk AND #sk BETWEEN :lo AND :hi", true)
            }
        };
        values
            .entry(":hi".into())
            .or_insert_with(|| AttributeValue::S(upper.as_str().to_owned()));
        let mut names = HashMap::from([
            ("#pk".to_owned(), pk_name.to_owned()),
            ("#sk".to_owned(), sk_name.to_owned()),
        ]);
        let mut projection = Vec::new();
        let extra = if with_html { &["html"][..] } else { &[] };
        for (i, attr) in LISTING_ATTRIBUTES.iter().chain(extra).enumerate() {
            names.insert(format!("#a{i}"), (*attr).to_owned());
            projection.push(format!("#a{i}"));
        }
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(matches!(run, Run::Index).then(|| BY_DATE.to_owned()))
                .key_condition_expression(condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .projection_expression(projection.join(", "))
                .scan_index_forward(forward)
                .limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("querying posts", e))?;
            for item in out.items.unwrap_or_default() {
                items.push(from_item::<EntryItem>(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() || items.len() >= limit {
                return Ok(items);
            }
        }
    }

    /// Creates a post with its feed, tag and alias entries in one transaction, only
    /// if no post has its slug. `post.previous`/`next` are stored as given.
    pub async fn create(&self, post: &Post) -> Result<(), StoreError> {
        let post_item = to_item(&PostItem::new(post, 1))?;
        let size = item_size(&post_item);
        if size > MAX_ITEM_BYTES {
            return Err(StoreError::TooLarge {
                what: format!("post \"{}\" with its rendered HTML", post.slug),
                size,
                limit: MAX_ITEM_BYTES,
            });
        }
        let absent = "attribute_not_exists(pk)";
        let mut puts = vec![(post_item, absent, None)];
        if !post.draft {
            puts.push((
                to_item(&EntryItem::new(FEED_PK.to_owned(), post))?,
                absent,
                None,
            ));
            for tag in &post.tags {
                puts.push((to_item(&EntryItem::new(tag_pk(tag), post))?, absent, None));
            }
        }
        for alias in &post.aliases {
            let item = AliasItem {
                pk: alias_pk(alias),
                sk: "ALIAS".into(),
                slug: post.slug.clone(),
            };
            // An alias may be re-pointed only from nothing or from this same post.
            puts.push((
                to_item(&item)?,
                "attribute_not_exists(pk) OR slug = :slug",
                Some(post.slug.as_str()),
            ));
        }
        let total: usize = puts.iter().map(|(item, _, _)| item_size(item)).sum();
        if total > MAX_TRANSACTION_BYTES {
            return Err(StoreError::TooLarge {
                what: format!(
                    "post \"{}\" with its {} tag entries",
                    post.slug,
                    post.tags.len()
                ),
                size: total,
                limit: MAX_TRANSACTION_BYTES,
            });
        }
        let mut tx = self.client.transact_write_items();
        for (item, condition, slug) in puts {
            let mut put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition);
            if let Some(slug) = slug {
                put = put.expression_attribute_values(":slug", AttributeValue::S(slug.to_owned()));
            }
            let put = put
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tx = tx.transact_items(TransactWriteItem::builder().put(put).build());
        }
        tx.send().await.map_err(|e| {
            let conflict = e
                .as_service_error()
                .and_then(|s| match s {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t) => Some(t),
                    _ => None,
                })
                .map(|t| t.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed")));
            match conflict {
                Some(true) => StoreError::Conflict(format!(
                    "a post with the slug \"{}\" already exists, or one of its aliases belongs to another post",
                    post.slug
                )),
                _ => unavailable("writing post", e),
            }
        })?;
        Ok(())
    }

    /// One GetItem by key.
    async fn get_item(
        &self,
        pk: String,
        sk: &str,
        context: &str,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .send()
            .await
            .map_err(|e| unavailable(context, e))?;
        Ok(out.item)
    }

    /// Reads the whole index (sitemap, tag counts): one Query per 1 MB of listing data.
    async fn all_listed(&self, now: DateTime<Utc>) -> Result<Vec<EntryItem>, StoreError> {
        self.query(&Run::Index, &Cursor::First, usize::MAX, now, false)
            .await
    }
}

/// DynamoDB's item size: attribute names plus values (a close upper estimate).
fn item_size(item: &Item) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::B(b) => b.as_ref().len(),
            AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>()
            }
            AttributeValue::Ss(s) | AttributeValue::Ns(s) => s.iter().map(String::len).sum(),
            _ => 1,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

impl Posts for DynamoPosts {
    async fn get(&self, slug: &Slug) -> Result<Option<Post>, StoreError> {
        self.get_item(post_pk(slug), "POST", "reading a post")
            .await?
            .map(|item| from_item::<PostItem>(item).map(PostItem::into_post))
            .transpose()
    }

    async fn list(&self, q: &ListQuery) -> Result<Listing, StoreError> {
        let run = match &q.tag {
            Some(t) => Run::Tag(t),
            None => Run::Index,
        };
        let mut items = self
            .query(&run, &q.cursor, q.limit + 1, q.now, false)
            .await?;
        let more = items.len() > q.limit;
        items.truncate(q.limit);
        if matches!(q.cursor, Cursor::After(_)) {
            items.reverse();
        }
        Ok(Listing {
            posts: items.into_iter().map(EntryItem::into_summary).collect(),
            more,
        })
    }

    async fn recent(
        &self,
        tag: Option<&Tag>,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let run = match tag {
            Some(t) => Run::Tag(t),
            None => Run::Feed,
        };
        let items = self.query(&run, &Cursor::First, limit, now, true).await?;
        Ok(items
            .into_iter()
            .map(|mut e| {
                let html = e.html.take().unwrap_or_default();
                FeedEntry {
                    summary: e.into_summary(),
                    html,
                }
            })
            .collect())
    }

    async fn all_public(&self, now: DateTime<Utc>) -> Result<Vec<PostSummary>, StoreError> {
        Ok(self
            .all_listed(now)
            .await?
            .into_iter()
            .map(EntryItem::into_summary)
            .collect())
    }

    async fn tags(&self, now: DateTime<Utc>) -> Result<Vec<TagCount>, StoreError> {
        let items = self.all_listed(now).await?;
        Ok(super::count_tags(items.iter().map(|i| i.tags.as_slice())))
    }

    async fn alias(&self, path: &str) -> Result<Option<Slug>, StoreError> {
        Ok(self
            .get_item(alias_pk(path), "ALIAS", "reading an alias")
            .await?
            .map(from_item::<AliasItem>)
            .transpose()?
            .map(|a| a.slug))
    }
}

/// Creates the table and its index as `template.yaml` does, for emulators and
/// local runs; deployed tables come from the SAM template.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
    let index = GlobalSecondaryIndex::builder()
        .index_name(BY_DATE)
        .key_schema(key("gsi1pk", KeyType::Hash).map_err(built)?)
        .key_schema(key("gsi1sk", KeyType::Range).map_err(built)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(
                    LISTING_ATTRIBUTES.iter().map(|s| (*s).to_owned()).collect(),
                ))
                .build(),
        )
        .build()
        .map_err(built)?;
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk").map_err(built)?)
        .attribute_definitions(attr("sk").map_err(built)?)
        .attribute_definitions(attr("gsi1pk").map_err(built)?)
        .attribute_definitions(attr("gsi1sk").map_err(built)?)
        .key_schema(key("pk", KeyType::Hash).map_err(built)?)
        .key_schema(key("sk", KeyType::Range).map_err(built)?)
        .global_secondary_indexes(index)
        .send()
        .await
        .map_err(|e| unavailable("creating the table", e))?;
    Ok(())
}
