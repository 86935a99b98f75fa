//! GET `/tags/`: every tag with its post count.

use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Serialize;

use crate::app::App;
use crate::error::AppError;
use crate::http::Reply;
use crate::post::Tag;
use crate::render::PageMeta;
use crate::store::{Assets, Posts};
use crate::urls::decode;

/// Decodes a tag from its URL segment; an undecodable one names no page.
pub fn parse_tag(raw: &str) -> Result<Tag, AppError> {
    decode(raw)
        .and_then(|t| Tag::parse(&t).ok())
        .ok_or_else(|| AppError::NotFound {
            path: format!("/tags/{raw}/"),
        })
}

#[derive(Serialize)]
struct TagRow {
    name: String,
    path: String,
    count: usize,
}

/// Serves the tag index.
pub async fn index<P: Posts, A: Assets>(
    app: &App<P, A>,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    let rows: Vec<TagRow> = app
        .posts
        .tags(now)
        .await?
        .into_iter()
        .map(|tc| TagRow {
            name: tc.tag.to_string(),
            path: tc.tag.path(),
            count: tc.count,
        })
        .collect();
    let meta = PageMeta {
        title: "Tags".into(),
        description: format!("All topics on {}.", app.config.title),
        canonical: Some(format!("{}/tags/", app.config.base_url)),
        og_type: "website",
        nav: "tags",
        ..PageMeta::default()
    };
    Ok(Reply::html(app.templates.render(
        "tags.html",
        context! { page => meta, tags => rows },
    )?))
}
