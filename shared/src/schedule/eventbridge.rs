//! Schedules in EventBridge Scheduler: one-time `at(...)` schedules in UTC, in the
//! stack's schedule group, deleted after they run, invoking the drain function
//! with the post's slug through the stack's scheduler role.

use aws_sdk_scheduler::error::{DisplayErrorContext, SdkError};
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};
use aws_sdk_scheduler::Client;
use chrono::{DateTime, Utc};

use super::{at_expression, schedule_name, ScheduleError, Schedules};
use crate::post::Slug;

/// The stack's schedules.
#[derive(Debug, Clone)]
pub struct EventBridge {
    client: Client,
    group: String,
    target: String,
    role: String,
}

impl EventBridge {
    /// Schedules in `group`, invoking the function `target` (an ARN) as `role`.
    pub fn new(client: Client, group: &str, target: &str, role: &str) -> Self {
        Self {
            client,
            group: group.to_owned(),
            target: target.to_owned(),
            role: role.to_owned(),
        }
    }

    fn target(&self, slug: &Slug, at: DateTime<Utc>) -> Result<Target, ScheduleError> {
        let input = serde_json::json!({ "scheduled": { "slug": slug, "at": at.to_rfc3339() } });
        Target::builder()
            .arn(&self.target)
            .role_arn(&self.role)
            .input(input.to_string())
            // A delivery that fails is retried for an hour; the sweep backs it up.
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_event_age_in_seconds(3600)
                    .maximum_retry_attempts(20)
                    .build(),
            )
            .build()
            .map_err(|e| ScheduleError(e.to_string()))
    }
}

fn failed<E>(what: &str, e: SdkError<E>) -> ScheduleError
where
    E: std::error::Error + Send + Sync + 'static,
{
    ScheduleError(format!("{what}: {}", DisplayErrorContext(e)))
}

fn off() -> Result<FlexibleTimeWindow, ScheduleError> {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| ScheduleError(e.to_string()))
}

/// The whole schedule, on a CreateSchedule or an UpdateSchedule (an update
/// replaces every field, so both carry the same ones).
macro_rules! schedule {
    ($builder:expr, $bridge:expr, $slug:expr, $at:expr) => {
        $builder
            .name(schedule_name($slug))
            .group_name(&$bridge.group)
            .schedule_expression(at_expression($at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(off()?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target($bridge.target($slug, $at)?)
    };
}

impl Schedules for EventBridge {
    async fn set(&self, slug: &Slug, at: DateTime<Utc>) -> Result<(), ScheduleError> {
        match schedule!(self.client.create_schedule(), self, slug, at)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // It exists (the post was scheduled before): replace it whole.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                schedule!(self.client.update_schedule(), self, slug, at)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| failed("updating the schedule", e))
            }
            Err(e) => Err(failed("creating the schedule", e)),
        }
    }

    async fn clear(&self, slug: &Slug) -> Result<(), ScheduleError> {
        match self
            .client
            .delete_schedule()
            .name(schedule_name(slug))
            .group_name(&self.group)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(failed("deleting the schedule", e)),
        }
    }
}
