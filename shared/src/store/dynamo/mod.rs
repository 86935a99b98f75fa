//! The DynamoDB store, one table:
//!
//! | item | pk | sk | carries |
//! |---|---|---|---|
//! | post | `POST#<slug>` | `POST` | every field, the rendered HTML, `version`; `gsi1pk`=`PUBLISHED` (or `DRAFT`), `gsi1sk`=`<sort key>` |
//! | feed entry | `FEED` | `<sort key>` | listing fields + HTML, published posts only |
//! | tag entry | `TAG#<tag>` | `<sort key>` | listing fields + HTML, published posts only |
//! | alias | `ALIAS#<path>` | `ALIAS` | the slug it redirects to |
//! | site | `SITE` | `SITE` | `revision`, bumped by every publish (see `write`) |
//! | queued invalidation | `OUTBOX` | `Q#<revision>` | the paths one write changed (see `crate::cdn`) |
//! | hold | `OUTBOX` | `HOLD` | `until`: the drain waits (a bulk import) |
//! | sent batch | `OUTBOX` | `SENT#<time>#<id>` | what the CDN accepted; `expires` (TTL) |
//! | site versions | `RENDER` | `STATE` | the `renderer` and `pages` versions the site is at (`crate::rerender`) |
//! | unfinished re-render | `RENDER` | `JOB` | posts `left`, the CloudFormation `requests` to answer |
//!
//! The sparse index `byDate` (gsi1pk, gsi1sk) projects only listing fields. A page
//! view is one request: GetItem for a post, one Query for a listing, a tag page or a
//! feed. Pages follow the sort key (`?before=`/`?after=`), never a Scan. A post and
//! its entries are written in one transaction, conditional on what the writer saw.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::Client;

use crate::error::StoreError;

mod admin;
mod items;
mod links;
mod outbox;
mod read;
mod tx;
mod versions;
mod write;

pub use admin::create_table;
pub use items::{BY_DATE, LISTING_ATTRIBUTES, MAX_ITEM_BYTES};

/// Posts in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoPosts {
    client: Client,
    table: String,
}

impl DynamoPosts {
    /// A store over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl DynamoPosts {
    /// Every item `query` finds, page after page.
    async fn query_all(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        context: &str,
    ) -> Result<Vec<items::Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = query
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable(context, e))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

/// A failed SDK call: the store is unavailable for now.
fn unavailable<E: std::error::Error + Send + Sync + 'static>(
    context: &str,
    err: SdkError<E>,
) -> StoreError {
    StoreError::unavailable(
        context.to_owned(),
        aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string(),
    )
}
