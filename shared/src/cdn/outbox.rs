//! The outbox: invalidations recorded with the writes that need them, waiting for
//! the drain. Both stores keep one; the DynamoDB store's lives in the posts table,
//! written in the same `TransactWriteItems` as the post.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Longest hold an author can ask for: a crashed import cannot hold the queue for
/// longer than this.
pub const MAX_HOLD_SECONDS: i64 = 15 * 60;

/// How many sent batches the outbox remembers (the DynamoDB store also expires
/// them after [`SENT_KEEP_DAYS`]).
pub const SENT_KEPT: usize = 20;

/// Days a sent batch's record stays (DynamoDB's TTL removes it).
pub const SENT_KEEP_DAYS: i64 = 7;

/// One write's paths, waiting for the CDN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// Orders entries: later writes have larger ids.
    pub id: String,
    /// The paths the write changed.
    pub paths: Vec<String>,
    /// When the write committed.
    pub queued_at: DateTime<Utc>,
}

/// A batch the CDN accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The CDN's id for it.
    pub id: String,
    /// The paths sent (`/*` when the batch was collapsed).
    pub paths: Vec<String>,
    /// How many queued entries it covered.
    pub entries: usize,
    /// How many distinct paths those entries held.
    pub queued_paths: usize,
    /// CreateInvalidation calls it took (retries included).
    pub attempts: u32,
    /// When the CDN accepted it.
    pub sent_at: DateTime<Utc>,
}

/// Everything in the outbox, as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxState {
    /// Waiting, oldest first.
    pub pending: Vec<Queued>,
    /// While set and in the future, the drain waits (a bulk import holds it so the
    /// whole run ends in one batch).
    pub held_until: Option<DateTime<Utc>>,
    /// Recently sent batches, newest first.
    pub sent: Vec<Sent>,
}

impl OutboxState {
    /// Whether the drain must wait at `now`.
    pub fn held(&self, now: DateTime<Utc>) -> bool {
        self.held_until.is_some_and(|until| until > now)
    }
}

/// A store's outbox. Entries are added by the store's writes, in the same
/// transaction, and by [`Outbox::queue`] for changes no write makes (a scheduled
/// post's minute arriving).
pub trait Outbox: Send + Sync {
    /// Queues `paths` on their own; returns the entry's id (`None`: nothing to queue).
    fn queue(
        &self,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// What is pending, held and sent, read consistently.
    fn outbox(&self) -> impl Future<Output = Result<OutboxState, StoreError>> + Send;

    /// Holds the drain until `until`, or releases it (`None`). Releasing lets the
    /// drain run (the DynamoDB stream sees the hold go).
    fn hold(
        &self,
        until: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the entries `ids` (their paths were accepted as `sent`) and records
    /// `sent`. Removing an entry already gone is not an error: two drains may race.
    fn clear(
        &self,
        ids: &[String],
        sent: &Sent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An outbox in memory: the filesystem store's (`blog serve` has no CDN and no
/// other process to survive), and the drain's tests.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    state: std::sync::Mutex<(u64, OutboxState)>,
}

impl MemoryOutbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, OutboxState)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a write's paths; returns the entry's id (`None`: nothing to queue).
    pub fn push(&self, paths: &[String], now: DateTime<Utc>) -> Option<String> {
        if paths.is_empty() {
            return None;
        }
        let mut guard = self.lock();
        guard.0 += 1;
        let id = format!("{:020}", guard.0);
        guard.1.pending.push(Queued {
            id: id.clone(),
            paths: paths.to_vec(),
            queued_at: now,
        });
        Some(id)
    }
}

impl Outbox for MemoryOutbox {
    async fn queue(
        &self,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.push(paths, now))
    }

    async fn outbox(&self) -> Result<OutboxState, StoreError> {
        Ok(self.lock().1.clone())
    }

    async fn hold(&self, until: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        self.lock().1.held_until = until;
        Ok(())
    }

    async fn clear(&self, ids: &[String], sent: &Sent) -> Result<(), StoreError> {
        let mut guard = self.lock();
        let state = &mut guard.1;
        state.pending.retain(|q| !ids.contains(&q.id));
        state.sent.insert(0, sent.clone());
        state.sent.truncate(SENT_KEPT);
        Ok(())
    }
}
