//! Listings: the home page and tag pages, newest first, paged by cursor
//! (`?before=<key>` for older posts, `?after=<key>` for newer ones).

use chrono::{DateTime, Utc};
use http::StatusCode;
use minijinja::context;

use crate::app::App;
use crate::config::Config;
use crate::error::AppError;
use crate::http::Reply;
use crate::post::{SortKey, Tag};
use crate::render::{PageMeta, SummaryView};
use crate::store::{Assets, Cursor, ListQuery, Posts};
use crate::urls::{encode_query_value, query_param};

/// Reads the cursor from the query string; a malformed one is the client's mistake.
pub fn cursor(query: Option<&str>) -> Result<Cursor, AppError> {
    let parse = |name: &str, raw: String| {
        SortKey::parse(&raw).ok_or_else(|| {
            AppError::BadRequest(format!(
                "The {name}= value is not a page position this site wrote. Start again from the first page."
            ))
        })
    };
    match (query_param(query, "before"), query_param(query, "after")) {
        (Some(_), Some(_)) => Err(AppError::BadRequest(
            "Use either before= or after=, not both.".into(),
        )),
        (Some(b), None) => Ok(Cursor::Before(parse("before", b)?)),
        (None, Some(a)) => Ok(Cursor::After(parse("after", a)?)),
        (None, None) => Ok(Cursor::First),
    }
}

/// GET `/` or `/tags/{tag}/`.
pub async fn get<P: Posts, A: Assets>(
    app: &App<P, A>,
    tag: Option<Tag>,
    query: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    let cursor = cursor(query)?;
    let base_path = tag.as_ref().map_or_else(|| "/".to_owned(), Tag::path);
    let q = ListQuery {
        tag: tag.clone(),
        cursor: cursor.clone(),
        limit: app.config.per_page,
        now,
    };
    let listing = app.posts.list(&q).await?;
    let (first, last) = match (listing.posts.first(), listing.posts.last()) {
        (Some(f), Some(l)) => (f.sort_key(), l.sort_key()),
        _ if cursor == Cursor::First && tag.is_none() => {
            (SortKey::upper_bound(now), SortKey::upper_bound(now))
        }
        _ => return Err(AppError::NotFound { path: base_path }),
    };
    let link = |dir: &str, key: &SortKey| {
        format!("{base_path}?{dir}={}", encode_query_value(key.as_str()))
    };
    let (newer, older) = match &cursor {
        Cursor::First => (None, listing.more.then(|| link("before", &last))),
        Cursor::Before(_) => (
            Some(link("after", &first)),
            listing.more.then(|| link("before", &last)),
        ),
        // Nothing newer beyond this page: the first page shows it, at its one URL.
        Cursor::After(_) if !listing.more => {
            return Ok(Reply::redirect(StatusCode::FOUND, base_path))
        }
        Cursor::After(_) => (Some(link("after", &first)), Some(link("before", &last))),
    };
    let (number, pages) = listing.page_of(app.config.per_page);
    let mut meta = page_meta(
        &app.config,
        tag.as_ref(),
        query.filter(|_| cursor != Cursor::First),
    );
    let heading = if tag.is_none() && cursor == Cursor::First {
        "Latest posts".to_owned()
    } else if tag.is_none() {
        "Older posts".to_owned()
    } else {
        meta.title.clone()
    };
    if cursor != Cursor::First {
        // Each page its own title: "Older posts, page 3 of 20".
        meta.title = format!("{}, page {number} of {pages}", meta.title);
    }
    let posts: Vec<SummaryView> = listing.posts.iter().map(SummaryView::from).collect();
    let ctx = context! {
        page => meta, heading => heading, posts => posts, newer => newer, older => older,
        number => number, pages => pages, total => listing.total, tag => tag.is_some(),
    };
    Ok(Reply::html(app.templates.render("index.html", ctx)?))
}

/// Title, description and canonical URL of a listing page; `paged_query` is the
/// query string of any page but the first.
fn page_meta(config: &Config, tag: Option<&Tag>, paged_query: Option<&str>) -> PageMeta {
    let base_path = tag.map_or_else(|| "/".to_owned(), Tag::path);
    let (title, description) = match tag {
        None if paged_query.is_some() => ("Older posts".to_owned(), config.description.clone()),
        None => (String::new(), config.description.clone()),
        Some(t) => (
            format!("Posts tagged “{t}”"),
            format!("Posts about {t} on {}.", config.title),
        ),
    };
    let canonical = match paged_query {
        Some(q) => format!("{}{base_path}?{q}", config.base_url),
        None => format!("{}{base_path}", config.base_url),
    };
    PageMeta {
        title,
        description,
        canonical: Some(canonical),
        og_type: "website",
        nav: if tag.is_some() { "tags" } else { "posts" },
        tag_feed: tag.map(|t| format!("{}{}feed.xml", config.base_url, t.path())),
        ..PageMeta::default()
    }
}
