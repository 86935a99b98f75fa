//! `/archive/`: every public post on one page, one line each, grouped by year (the
//! way back through a long-lived blog that "older posts" alone cannot give), and
//! `/subscribe/`, which explains the feeds instead of opening raw XML.

use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Serialize;

use crate::app::App;
use crate::error::AppError;
use crate::http::Reply;
use crate::render::{PageMeta, SummaryView};
use crate::store::{Assets, Posts};

#[derive(Serialize)]
struct Year {
    year: i32,
    posts: Vec<SummaryView>,
}

/// GET `/archive/`.
pub async fn get<P: Posts, A: Assets>(
    app: &App<P, A>,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    use chrono::Datelike as _;
    let posts = app.posts.all_public(now).await?;
    let total = posts.len();
    let mut years: Vec<Year> = Vec::new();
    for p in &posts {
        let year = p.date.get().year();
        match years.last_mut() {
            Some(y) if y.year == year => y.posts.push(SummaryView::from(p)),
            _ => years.push(Year {
                year,
                posts: vec![SummaryView::from(p)],
            }),
        }
    }
    let config = &app.config;
    let meta = PageMeta {
        title: "Archive".to_owned(),
        description: format!("Every post on {}, by year.", config.title),
        canonical: Some(format!("{}/archive/", config.base_url)),
        og_type: "website",
        nav: "archive",
        ..PageMeta::default()
    };
    let ctx = context! { page => meta, years => years, total => total };
    Ok(Reply::html(app.templates.render("archive.html", ctx)?))
}

/// GET `/subscribe/`.
pub fn subscribe<P: Posts, A: Assets>(app: &App<P, A>) -> Result<Reply, AppError> {
    let config = &app.config;
    let meta = PageMeta {
        title: "Subscribe".to_owned(),
        description: format!("Follow {} in a feed reader: Atom and RSS.", config.title),
        canonical: Some(format!("{}/subscribe/", config.base_url)),
        og_type: "website",
        nav: "subscribe",
        ..PageMeta::default()
    };
    Ok(Reply::html(
        app.templates
            .render("subscribe.html", context! { page => meta })?,
    ))
}
