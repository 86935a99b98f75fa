//! The read side as deployed: the fixtures seeded into a fresh table and bucket on
//! moto, a counting proxy in front of it, and each function's release bootstrap
//! behind its own Runtime API.

use std::collections::HashMap;

use blog_core::routes::Function;
use tempfile::TempDir;

use crate::events::{self, LambdaResponse};
use crate::proxy::CountingProxy;
use crate::runtime_api::{start_functions, RuntimeApi};
use crate::{fixtures, moto};

/// A running stack of functions.
pub struct Stack {
    /// Each function's Runtime API, by function name.
    pub apis: HashMap<&'static str, RuntimeApi>,
    /// Between the functions and moto.
    pub proxy: CountingProxy,
    /// The seeded table.
    pub table: String,
    /// The content the table was seeded from.
    pub content: TempDir,
}

impl Stack {
    /// Seeds the fixtures and starts `functions` with `BLOG_BASE_URL=https://blog.test`.
    pub async fn start(functions: &[Function]) -> Self {
        let content = fixtures::content_dir();
        let (_, _, table, bucket) = fixtures::seed_aws(moto::endpoint(), content.path()).await;
        let proxy = CountingProxy::start(moto::endpoint()).await;
        let mut env = moto::env(&proxy.endpoint());
        env.push(("BLOG_TABLE".into(), table.clone()));
        env.push(("BLOG_BUCKET".into(), bucket));
        env.push(("BLOG_BASE_URL".into(), "https://blog.test".into()));
        let apis = start_functions(functions, &env).await;
        Self {
            apis,
            proxy,
            table,
            content,
        }
    }

    /// Sends an event's JSON to the function its route key names.
    pub async fn invoke(&self, event: &str) -> LambdaResponse {
        let f = events::function_for(event);
        let out = self.apis[f.name()]
            .invoke(event)
            .await
            .unwrap_or_else(|e| panic!("blog-{}: {e}", f.name()));
        LambdaResponse::parse(&out)
    }
}
