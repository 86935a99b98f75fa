//! The write side as deployed: the release `publish` and `drain` bootstraps behind
//! Runtime APIs of their own, on a seeded or an empty table, with CloudFront behind
//! the quota stand-in and the environment the stack sets.

use std::path::Path;
use std::time::Duration;

use blog_core::store::dynamo::{self, DynamoPosts};

use crate::cloudfront::QuotaCloudFront;
use crate::runtime_api::{bootstrap_named, RuntimeApi};
use crate::{fixtures, moto, unique_name};

/// A running deployment.
pub struct Deployment {
    /// The SDK configuration for the emulators.
    pub sdk: aws_config::SdkConfig,
    /// The table, as a store.
    pub posts: DynamoPosts,
    /// The schedule group.
    pub group: String,
    /// The publish function.
    pub publish: RuntimeApi,
    /// The drain function.
    pub drain: RuntimeApi,
    /// CloudFront's quota stand-in, in front of moto.
    pub cloudfront: QuotaCloudFront,
    /// The distribution the drain invalidates.
    pub distribution: String,
}

/// A fresh, empty table and bucket; returns their names.
pub async fn empty_site(sdk: &aws_config::SdkConfig) -> (String, String) {
    let (table, bucket) = (unique_name("posts"), unique_name("assets"));
    dynamo::create_table(&blog_core::aws::dynamodb(sdk), &table)
        .await
        .unwrap();
    blog_core::aws::s3(sdk)
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    (table, bucket)
}

impl Deployment {
    /// Seeded with the posts in `content` (empty when `None`); each invalidation
    /// stays in progress at the stand-in for `busy_for`.
    pub async fn start(content: Option<&Path>, busy_for: Duration) -> Self {
        let sdk = moto::sdk_config(moto::endpoint()).await;
        let (table, bucket) = match content {
            Some(dir) => {
                let (_, _, table, bucket) = fixtures::seed_aws(moto::endpoint(), dir).await;
                (table, bucket)
            }
            None => {
                let (table, bucket) = empty_site(&sdk).await;
                let posts = DynamoPosts::new(blog_core::aws::dynamodb(&sdk), &table);
                fixtures::record_versions(&posts).await;
                (table, bucket)
            }
        };
        let cloudfront = QuotaCloudFront::start(moto::endpoint(), busy_for).await;
        let distribution = moto::distribution(&blog_core::aws::cloudfront(&sdk)).await;
        let (env, group) = moto::function_env(
            &sdk,
            &table,
            &bucket,
            &distribution,
            Some(&cloudfront.endpoint()),
        )
        .await;
        let mut publish = RuntimeApi::start().await;
        publish.spawn(&bootstrap_named("publish"), "blog-publish", &env);
        let mut drain = RuntimeApi::start().await;
        drain.spawn(&bootstrap_named("drain"), "blog-drain", &env);
        Self {
            posts: DynamoPosts::new(blog_core::aws::dynamodb(&sdk), &table),
            sdk,
            group,
            publish,
            drain,
            cloudfront,
            distribution,
        }
    }
}
