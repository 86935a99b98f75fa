//! The outbox in the posts table (partition `OUTBOX`): entries are put by the
//! writes' transactions; this reads them, holds the drain, and clears what the CDN
//! accepted. A DynamoDB stream on the table wakes the drain function when an entry
//! arrives or a hold goes (`template.yaml`).

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::items::{
    from_item, key, s, to_item, Item, QueuedItem, SentItem, HOLD_SK, MAX_TRANSACTION_ITEMS,
    OUTBOX_PK, QUEUED_PREFIX, SENT_PREFIX,
};
use super::tx::Tx;
use super::{unavailable, DynamoPosts};
use crate::cdn::outbox::{Outbox, OutboxState, Queued, Sent, SENT_KEPT};
use crate::error::StoreError;

impl DynamoPosts {
    /// Every item in the outbox's partition, read consistently.
    async fn outbox_items(&self) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(OUTBOX_PK))
            .consistent_read(true);
        self.query_all(query, "reading the invalidation queue")
            .await
    }
}

fn sort_key(item: &Item) -> &str {
    item.get("sk")
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

impl Outbox for DynamoPosts {
    async fn queue(
        &self,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        if paths.is_empty() {
            return Ok(None);
        }
        // Not a write's: named by the time (nanoseconds, so after every revision
        // id), conditional so two never share a key.
        let id = format!("{:020}", now.timestamp_nanos_opt().unwrap_or_default());
        let item = to_item(&QueuedItem::new(Queued {
            id: id.clone(),
            paths: paths.to_vec(),
            queued_at: now,
        }))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| unavailable("queueing an invalidation", e))?;
        Ok(Some(id))
    }

    async fn outbox(&self) -> Result<OutboxState, StoreError> {
        let mut state = OutboxState::default();
        for item in self.outbox_items().await? {
            let sk = sort_key(&item).to_owned();
            if sk.starts_with(QUEUED_PREFIX) {
                state.pending.push(from_item::<QueuedItem>(item)?.queued);
            } else if sk.starts_with(SENT_PREFIX) {
                state.sent.push(from_item::<SentItem>(item)?.sent);
            } else if sk == HOLD_SK {
                state.held_until = item
                    .get("until")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|t| t.parse::<DateTime<Utc>>().ok());
            }
        }
        // Keys sort by id and by time: entries oldest first, batches newest first.
        state.sent.reverse();
        state.sent.truncate(SENT_KEPT);
        Ok(state)
    }

    async fn hold(&self, until: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        let result = match until {
            Some(until) => {
                let mut item = key(OUTBOX_PK.to_owned(), HOLD_SK);
                item.insert("until".into(), AttributeValue::S(until.to_rfc3339()));
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| unavailable("holding the invalidation queue", e))
            }
            None => self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(OUTBOX_PK.to_owned(), HOLD_SK)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| unavailable("releasing the invalidation queue", e)),
        };
        result
    }

    async fn clear(&self, ids: &[String], sent: &Sent) -> Result<(), StoreError> {
        // The record goes with the first chunk; each chunk is all or nothing, and a
        // chunk that fails leaves its entries for the next drain (sent again: the
        // CDN's cost of a duplicate path, never a lost one).
        let mut record = Some(sent);
        for chunk in ids.chunks(MAX_TRANSACTION_ITEMS - 1) {
            let mut tx = Tx::new(&self.table);
            for id in chunk {
                tx.drained(OUTBOX_PK.to_owned(), &format!("{QUEUED_PREFIX}{id}"))?;
            }
            if let Some(sent) = record.take() {
                tx.sent(sent)?;
            }
            self.client
                .transact_write_items()
                .set_transact_items(Some(tx.items.into_iter().map(|i| i.item).collect()))
                .send()
                .await
                .map_err(|e| unavailable("clearing sent invalidations", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_records_carry_their_expiry() {
        let sent = Sent {
            id: "I1".into(),
            paths: vec!["/*".into()],
            entries: 3,
            queued_paths: 40,
            attempts: 1,
            sent_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        };
        let item = to_item(&SentItem::new(sent.clone())).unwrap();
        assert_eq!(sort_key(&item), "SENT#2026-01-01T00:00:00.000000Z#I1");
        assert_eq!(item["expires"].as_n().unwrap(), "1767830400");
        assert_eq!(from_item::<SentItem>(item).unwrap().sent, sent);
    }
}
