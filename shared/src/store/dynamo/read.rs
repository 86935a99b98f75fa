//! The read path: one GetItem for a post or an alias, a Query for a feed or a
//! listing page (plus one, side by side, for the keys that number the page). Pages
//! follow the sort key, never a Scan.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::items::{
    alias_pk, from_item, post_pk, s, tag_pk, AliasItem, EntryItem, Item, PostItem, ALIAS_SK,
    BY_DATE, FEED_PK, LISTING_ATTRIBUTES, POST_SK, PUBLISHED,
};
use super::{unavailable, DynamoPosts};
use crate::error::StoreError;
use crate::post::{FeedEntry, Post, PostSummary, Slug, SortKey, Tag};
use crate::store::{count_tags, Cursor, ListQuery, Listing, Posts, TagCount};

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

/// A Query's key condition, its values and its direction (`true`: oldest first);
/// `None` when the range is empty.
fn key_condition(
    run: &Run<'_>,
    cursor: &Cursor,
    now: DateTime<Utc>,
) -> Option<(&'static str, HashMap<String, AttributeValue>, bool)> {
    let upper = SortKey::upper_bound(now);
    let pk = match run {
        Run::Index => PUBLISHED.to_owned(),
        Run::Feed => FEED_PK.to_owned(),
        Run::Tag(t) => tag_pk(t),
    };
    let mut values = HashMap::from([(":pk".to_owned(), s(pk))]);
    let (condition, hi, forward) = match cursor {
        Cursor::First => ("#pk = :pk AND #sk < :hi", upper, false),
        Cursor::Before(k) => ("#pk = :pk AND #sk < :hi", k.clone().min(upper), false),
        Cursor::After(k) => {
            let lo = just_after(k);
            if lo.as_str() >= upper.as_str() {
                return None;
            }
            values.insert(":lo".into(), s(lo));
            ("#pk = :pk AND #sk BETWEEN :lo AND :hi", upper, true)
        }
    };
    values.insert(":hi".into(), s(hi.as_str()));
    Some((condition, values, forward))
}

/// Attribute names for the key and the listing fields (plus `html` for feeds),
/// and the projection naming them.
fn projection(run: &Run<'_>, with_html: bool) -> (HashMap<String, String>, String) {
    let (pk, sk) = match run {
        Run::Index => ("gsi1pk", "gsi1sk"),
        Run::Feed | Run::Tag(_) => ("pk", "sk"),
    };
    let mut names = HashMap::from([
        ("#pk".to_owned(), pk.to_owned()),
        ("#sk".to_owned(), sk.to_owned()),
    ]);
    let extra = if with_html { &["html"][..] } else { &[] };
    let mut projection = Vec::new();
    for (i, attr) in LISTING_ATTRIBUTES.iter().chain(extra).enumerate() {
        names.insert(format!("#a{i}"), (*attr).to_owned());
        projection.push(format!("#a{i}"));
    }
    (names, projection.join(", "))
}

impl DynamoPosts {
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
        let (names, projection) = projection(run, with_html);
        let mut items = Vec::new();
        self.each_item(run, cursor, now, names, &projection, limit, |item| {
            items.push(from_item::<EntryItem>(item)?);
            Ok(())
        })
        .await?;
        Ok(items)
    }

    /// The sort key of every public entry of a run, newest first: only the keys
    /// travel (one request per 1 MB of entries read).
    async fn keys(&self, run: &Run<'_>, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let (names, _) = projection(run, false);
        let sk = names["#sk"].clone();
        let names = HashMap::from([
            ("#pk".to_owned(), names["#pk"].clone()),
            ("#sk".to_owned(), sk.clone()),
        ]);
        let mut keys = Vec::new();
        self.each_item(run, &Cursor::First, now, names, "#sk", usize::MAX, |item| {
            if let Some(AttributeValue::S(key)) = item.get(&sk) {
                keys.push(key.clone());
            }
            Ok(())
        })
        .await?;
        Ok(keys)
    }

    /// Queries one run from `cursor` (newest first, or oldest first for `After`),
    /// page after page, handing each item to `take` until the run ends or `limit`
    /// items were taken.
    #[allow(clippy::too_many_arguments)] // one private helper; a struct would only rename them
    async fn each_item(
        &self,
        run: &Run<'_>,
        cursor: &Cursor,
        now: DateTime<Utc>,
        names: HashMap<String, String>,
        projection: &str,
        limit: usize,
        mut take: impl FnMut(Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let Some((condition, values, forward)) = key_condition(run, cursor, now) else {
            return Ok(());
        };
        let mut taken = 0;
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
                .projection_expression(projection)
                .scan_index_forward(forward)
                .limit(i32::try_from(limit - taken).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("querying posts", e))?;
            for item in out.items.unwrap_or_default() {
                take(item)?;
                taken += 1;
            }
            start = out.last_evaluated_key;
            if start.is_none() || taken >= limit {
                return Ok(());
            }
        }
    }

    /// One GetItem by key; `consistent` for the reads a write depends on.
    pub(super) async fn get_item(
        &self,
        pk: String,
        sk: &str,
        consistent: bool,
        context: &str,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(consistent)
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

impl Posts for DynamoPosts {
    async fn get(&self, slug: &Slug) -> Result<Option<Post>, StoreError> {
        self.get_item(post_pk(slug), POST_SK, false, "reading a post")
            .await?
            .map(|item| from_item::<PostItem>(item).map(|i| i.post))
            .transpose()
    }

    async fn list(&self, q: &ListQuery) -> Result<Listing, StoreError> {
        let run = match &q.tag {
            Some(t) => Run::Tag(t),
            None => Run::Index,
        };
        // The page and every public key of the run, side by side: one round trip's
        // wait, and "page 2 of 20" without a counter item every write must keep.
        let (items, keys) = tokio::join!(
            self.query(&run, &q.cursor, q.limit + 1, q.now, false),
            self.keys(&run, q.now)
        );
        let (mut items, keys) = (items?, keys?);
        let more = items.len() > q.limit;
        items.truncate(q.limit);
        if matches!(q.cursor, Cursor::After(_)) {
            items.reverse();
        }
        let posts: Vec<PostSummary> = items.into_iter().map(PostSummary::from).collect();
        let newer = posts.first().map_or(0, |first| {
            let first = first.sort_key();
            keys.iter().filter(|k| k.as_str() > first.as_str()).count()
        });
        Ok(Listing {
            posts,
            more,
            newer,
            total: keys.len(),
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
            .map(|e| FeedEntry {
                summary: e.summary,
                html: e.html.unwrap_or_default(),
            })
            .collect())
    }

    async fn all_public(&self, now: DateTime<Utc>) -> Result<Vec<PostSummary>, StoreError> {
        Ok(self
            .all_listed(now)
            .await?
            .into_iter()
            .map(PostSummary::from)
            .collect())
    }

    async fn tags(&self, now: DateTime<Utc>) -> Result<Vec<TagCount>, StoreError> {
        let items = self.all_listed(now).await?;
        Ok(count_tags(items.iter().map(|i| i.summary.tags.as_slice())))
    }

    async fn alias(&self, path: &str) -> Result<Option<Slug>, StoreError> {
        Ok(self
            .get_item(alias_pk(path), ALIAS_SK, false, "reading an alias")
            .await?
            .map(from_item::<AliasItem>)
            .transpose()?
            .map(|a| a.slug))
    }
}
