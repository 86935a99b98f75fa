//! Machine-readable routes: Atom (site and per tag), RSS 2.0, sitemap, robots.txt.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Serialize;

use crate::app::App;
use crate::error::AppError;
use crate::http::{Caching, Reply};
use crate::post::{post_path, FeedEntry, PostDate, Tag};
use crate::render::PostView;
use crate::store::{Assets, Posts};

#[derive(Serialize)]
struct FeedMeta {
    title: String,
    self_url: String,
    html_url: String,
    id: String,
    updated: String,
    updated_rfc2822: String,
}

/// An empty feed's date: fixed, so an empty feed keeps one ETag.
fn epoch() -> DateTime<chrono::FixedOffset> {
    DateTime::UNIX_EPOCH.fixed_offset()
}

/// The newest change among `posts`, if any.
fn last_change(posts: &[FeedEntry]) -> Option<PostDate> {
    posts
        .iter()
        .map(|e| {
            e.summary
                .updated
                .unwrap_or(e.summary.date)
                .max(e.summary.date)
        })
        .max()
}

/// GET `/feed.xml` or `/tags/{tag}/feed.xml`: full content, stable ids.
pub async fn atom<P: Posts, A: Assets>(
    app: &App<P, A>,
    tag: Option<Tag>,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    let config = &app.config;
    let posts = app
        .posts
        .recent(tag.as_ref(), config.feed_entries, now)
        .await?;
    let (title, html_path, self_path) = match &tag {
        None => (config.title.clone(), "/".to_owned(), "/feed.xml".to_owned()),
        Some(t) => {
            if posts.is_empty() {
                return Err(AppError::NotFound {
                    path: format!("{}feed.xml", t.path()),
                });
            }
            (
                format!("{}: {t}", config.title),
                t.path(),
                format!("{}feed.xml", t.path()),
            )
        }
    };
    let feed = feed_meta(config, title, &html_path, &self_path, &posts);
    let views: Vec<PostView<'_>> = posts.iter().map(|p| PostView::entry(p, config)).collect();
    let body = app
        .templates
        .render("atom.xml", context! { feed => feed, posts => views })?;
    Ok(Reply::ok(
        "application/atom+xml; charset=utf-8",
        body,
        Caching::Page,
    ))
}

/// GET `/rss.xml`.
pub async fn rss<P: Posts, A: Assets>(
    app: &App<P, A>,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    let config = &app.config;
    let posts = app.posts.recent(None, config.feed_entries, now).await?;
    let feed = feed_meta(config, config.title.clone(), "/", "/rss.xml", &posts);
    let views: Vec<PostView<'_>> = posts.iter().map(|p| PostView::entry(p, config)).collect();
    let body = app
        .templates
        .render("rss.xml", context! { feed => feed, posts => views })?;
    Ok(Reply::ok(
        "application/rss+xml; charset=utf-8",
        body,
        Caching::Page,
    ))
}

fn feed_meta(
    config: &crate::config::Config,
    title: String,
    html_path: &str,
    self_path: &str,
    posts: &[FeedEntry],
) -> FeedMeta {
    let updated = last_change(posts);
    FeedMeta {
        title,
        self_url: format!("{}{self_path}", config.base_url),
        html_url: format!("{}{html_path}", config.base_url),
        id: format!("{}{self_path}", config.base_url),
        updated: updated.map_or_else(|| epoch().to_rfc3339(), PostDate::rfc3339),
        updated_rfc2822: updated.map_or_else(|| epoch().to_rfc2822(), PostDate::rfc2822),
    }
}

#[derive(Serialize)]
struct SitemapUrl {
    loc: String,
    lastmod: Option<String>,
}

/// GET `/sitemap.xml`: home, tag index, every public post and tag page.
pub async fn sitemap<P: Posts, A: Assets>(
    app: &App<P, A>,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    let base = &app.config.base_url;
    let posts = app.posts.all_public(now).await?;
    let newest = posts
        .iter()
        .map(|p| p.updated.unwrap_or(p.date).max(p.date))
        .max();
    let mut urls = vec![
        SitemapUrl {
            loc: format!("{base}/"),
            lastmod: newest.map(PostDate::rfc3339),
        },
        SitemapUrl {
            loc: format!("{base}/archive/"),
            lastmod: newest.map(PostDate::rfc3339),
        },
        SitemapUrl {
            loc: format!("{base}/tags/"),
            lastmod: None,
        },
        SitemapUrl {
            loc: format!("{base}/subscribe/"),
            lastmod: None,
        },
    ];
    let mut tags = BTreeSet::new();
    for p in &posts {
        let modified = p.updated.unwrap_or(p.date).max(p.date);
        urls.push(SitemapUrl {
            loc: format!("{base}{}", post_path(&p.slug)),
            lastmod: Some(modified.rfc3339()),
        });
        tags.extend(p.tags.iter());
    }
    urls.extend(tags.into_iter().map(|t| SitemapUrl {
        loc: format!("{base}{}", t.path()),
        lastmod: None,
    }));
    let body = app
        .templates
        .render("sitemap.xml", context! { urls => urls })?;
    Ok(Reply::ok(
        "application/xml; charset=utf-8",
        body,
        Caching::Page,
    ))
}

/// GET `/robots.txt`.
pub fn robots<P: Posts, A: Assets>(app: &App<P, A>) -> Result<Reply, AppError> {
    let body = app.templates.render("robots.txt", context! {})?;
    Ok(Reply::ok("text/plain; charset=utf-8", body, Caching::Page))
}
