//! blog-core: everything but the wiring.
//!
//! - [`post`]: the content model; [`frontmatter`] and [`markdown`] turn a source
//!   file into a [`post::Post`] (feature `authoring`, the publish path only).
//! - [`store`]: the `Posts` and `Assets` traits and their implementations.
//! - [`render`]: the embedded minijinja templates and the views they show.
//! - [`routes`]: one module per route; [`http`] turns results and errors into responses.
//! - [`app`]: the `App` every handler borrows, built once per process.
//! - `page_cache`: `blog serve`'s stand-in for the CDN (feature `fs`).

pub mod app;
#[cfg(feature = "publish")]
pub mod auth;
#[cfg(feature = "authoring")]
pub mod authoring;
#[cfg(any(
    feature = "dynamo",
    feature = "s3",
    feature = "cloudfront",
    feature = "ssm",
    feature = "scheduler"
))]
pub mod aws;
pub mod cdn;
pub mod config;
pub mod error;
#[cfg(feature = "authoring")]
pub mod frontmatter;
#[cfg(all(test, feature = "publish"))]
mod fuzz;
#[cfg(feature = "authoring")]
mod highlight;
pub mod http;
#[cfg(feature = "authoring")]
pub mod images;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "authoring")]
pub mod markdown;
#[cfg(feature = "fs")]
pub mod page_cache;
pub mod post;
#[cfg(feature = "publish")]
pub mod publish;
pub mod render;
pub mod rerender;
pub mod routes;
pub mod schedule;
pub mod settings;
pub mod store;
#[cfg(feature = "ssm")]
pub mod token_parameter;
pub mod urls;
pub mod version;

pub use app::App;
pub use config::Config;
