//! The re-render's records in the table (partition `RENDER`): the versions the
//! site is at, written with the `/*` they cause in one transaction; an unfinished
//! run, whose every write the stream hands to the drain function so the next run
//! starts at once (`template.yaml`); and the CloudFormation requests waiting for
//! their answer, one item each, so no run's write can lose another's.

use super::items::{
    from_item, s, to_item, JobItem, RequestItem, JOB_SK, POST_SK, RENDER_PK, REQUEST_PREFIX,
    STATE_SK,
};
use super::tx::Tx;
use super::{unavailable, DynamoPosts};
use chrono::{DateTime, Utc};

use crate::cdn::outbox::Queued;
use crate::error::StoreError;
use crate::post::Slug;
use crate::rerender::{Job, RenderLedger, SiteVersions};

impl RenderLedger for DynamoPosts {
    async fn stale(&self, renderer: &str) -> Result<Vec<Slug>, StoreError> {
        // A Scan: no index holds the stamp, and this runs once per deploy (and for
        // `blog rerender`), reading each post once.
        let mut slugs = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(
                    "sk = :post AND (attribute_not_exists(renderer) OR renderer <> :r)",
                )
                .expression_attribute_values(":post", s(POST_SK))
                .expression_attribute_values(":r", s(renderer))
                .projection_expression("slug")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("finding posts an older renderer made", e))?;
            for item in page.items.unwrap_or_default() {
                slugs.push(from_item::<Stale>(item)?.slug);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                slugs.sort();
                return Ok(slugs);
            }
        }
    }

    async fn site_versions(&self) -> Result<Option<SiteVersions>, StoreError> {
        self.get_item(
            RENDER_PK.into(),
            STATE_SK,
            true,
            "reading the site's versions",
        )
        .await?
        .map(from_item::<SiteVersions>)
        .transpose()
    }

    async fn record_versions(
        &self,
        from: Option<&SiteVersions>,
        to: &SiteVersions,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = Tx::new(&self.table);
        tx.versions(from, to)?;
        // Named by the time, as `Outbox::queue` names its entries.
        let id = (!paths.is_empty())
            .then(|| format!("{:020}", now.timestamp_nanos_opt().unwrap_or_default()));
        if let Some(id) = &id {
            tx.outbox(Queued {
                id: id.clone(),
                paths: paths.to_vec(),
                queued_at: now,
            })?;
        }
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(tx.items.into_iter().map(|i| i.item).collect()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(id),
            Err(e) => {
                // Only the versions' own condition failing means another run
                // recorded first (and queued the `/*`); a conflict or throttling
                // cancels too, and is worth another try.
                let lost = e
                    .as_service_error()
                    .and_then(|e| match e {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t) => {
                            t.cancellation_reasons().first()?.code().map(str::to_owned)
                        }
                        _ => None,
                    })
                    .is_some_and(|code| code == "ConditionalCheckFailed");
                if lost {
                    Ok(None)
                } else {
                    Err(unavailable("recording the site's versions", e))
                }
            }
        }
    }

    async fn job(&self) -> Result<Option<Job>, StoreError> {
        Ok(self
            .get_item(
                RENDER_PK.into(),
                JOB_SK,
                true,
                "reading the unfinished re-render",
            )
            .await?
            .map(from_item::<JobItem>)
            .transpose()?
            .map(|item| item.job))
    }

    async fn set_job(&self, job: Option<&Job>) -> Result<(), StoreError> {
        let context = "recording the unfinished re-render";
        match job {
            Some(job) => {
                self.put_render_item(to_item(&JobItem::new(job.clone()))?, context)
                    .await
            }
            None => self.delete_render_item(JOB_SK, context).await,
        }
    }

    async fn requests(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :req)")
            .expression_attribute_values(":pk", s(RENDER_PK))
            .expression_attribute_values(":req", s(REQUEST_PREFIX))
            .consistent_read(true);
        self.query_all(query, "reading the CloudFormation requests")
            .await?
            .into_iter()
            .map(|item| from_item::<RequestItem>(item)?.event())
            .collect()
    }

    async fn keep_request(&self, id: &str, event: &serde_json::Value) -> Result<(), StoreError> {
        let item = to_item(&RequestItem::new(id, event))?;
        self.put_render_item(item, "keeping a CloudFormation request")
            .await
    }

    async fn drop_request(&self, id: &str) -> Result<(), StoreError> {
        let sk = format!("{REQUEST_PREFIX}{id}");
        self.delete_render_item(&sk, "forgetting an answered request")
            .await
    }
}

/// What the stale-post Scan projects.
#[derive(serde::Deserialize)]
struct Stale {
    slug: Slug,
}

impl DynamoPosts {
    async fn put_render_item(
        &self,
        item: super::items::Item,
        context: &str,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(context, e))
    }

    async fn delete_render_item(&self, sk: &str, context: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(RENDER_PK))
            .key("sk", s(sk))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(context, e))
    }
}
