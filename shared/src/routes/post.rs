//! GET `/posts/{slug}/`: one post, from its stored HTML.

use chrono::{DateTime, Utc};
use minijinja::context;
use serde_json::json;

use crate::app::App;
use crate::error::AppError;
use crate::http::Reply;
use crate::post::Post;
use crate::render::{NeighbourView, PageMeta, PostView};
use crate::store::{Assets, Posts};

/// Serves the post page; drafts and posts dated after `now` are not found.
pub async fn get<P: Posts, A: Assets>(
    app: &App<P, A>,
    raw_slug: &str,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    let not_found = || AppError::NotFound {
        path: format!("/posts/{raw_slug}/"),
    };
    let slug = super::slug_of(raw_slug).ok_or_else(not_found)?;
    let post = app
        .posts
        .get(&slug)
        .await?
        .filter(|p| p.is_public(now))
        .ok_or_else(not_found)?;
    let config = &app.config;
    let view = PostView::new(&post, config);
    let image = post.image.as_ref().map(|i| absolute(&config.base_url, i));
    let meta = PageMeta {
        title: post.title.clone(),
        description: post.description.clone(),
        canonical: Some(view.url.clone()),
        og_type: "article",
        image: image.clone(),
        ..PageMeta::default()
    };
    let next = post
        .next
        .as_ref()
        .filter(|n| n.date <= now)
        .map(NeighbourView::from);
    let previous = post.previous.as_ref().map(NeighbourView::from);
    let ctx = context! {
        page => meta,
        post => view,
        jsonld => json_ld(&post, &app.config, image.as_deref()),
        previous => previous,
        next => next,
    };
    Ok(Reply::html(app.templates.render("post.html", ctx)?))
}

fn absolute(base: &str, url: &str) -> String {
    if url.starts_with('/') {
        format!("{base}{url}")
    } else {
        url.to_owned()
    }
}

/// schema.org `BlogPosting`, for search engines.
fn json_ld(post: &Post, config: &crate::config::Config, image: Option<&str>) -> serde_json::Value {
    let url = format!("{}{}", config.base_url, post.path());
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.description,
        "datePublished": post.date.rfc3339(),
        "dateModified": post.updated.unwrap_or(post.date).rfc3339(),
        "author": { "@type": "Person", "name": config.author },
        "publisher": { "@type": "Person", "name": config.author },
        "mainEntityOfPage": { "@type": "WebPage", "@id": url },
        "url": url,
        "inLanguage": config.language,
        "keywords": post.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
    });
    if let (Some(image), Some(obj)) = (image, ld.as_object_mut()) {
        obj.insert("image".into(), image.into());
    }
    ld
}
