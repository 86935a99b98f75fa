//! `/api/posts`: list, read, create, update, delete. Every write is conditional
//! (absent for a create, `If-Match` for an update or delete), renders the Markdown
//! once, and queues the invalidation of exactly the paths it changed in the same
//! transaction (see `crate::cdn`).

use chrono::Utc;
use http::header;
use http::StatusCode;
use serde::Deserialize;

use super::replies::{PostList, PostListEntry, PostSource, WriteReport, WriteStatus};
use super::Answer;
use crate::app::App;
use crate::authoring::{self, MAX_SOURCE_BYTES};
use crate::cdn::Invalidation;
use crate::error::{AppError, InputError, StoreError};
use crate::http::Request;
use crate::post::{post_path, Post, Slug};
use crate::schedule::{self, Schedules};
use crate::store::{Expected, PostWriter, Posts, Versioned, Written};

/// A JSON body: the source, and the file name it came from (which gives the slug
/// when the front matter has none).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonPost {
    source: String,
    #[serde(default)]
    file_name: Option<String>,
}

/// What the author sent.
pub(crate) struct Submission {
    source: String,
    file_stem: Option<String>,
}

/// JSON escaping can double a source's size; anything beyond this cannot hold a
/// source under the limit.
const MAX_JSON_BYTES: usize = 2 * MAX_SOURCE_BYTES + 4096;

fn too_large(size: usize) -> AppError {
    AppError::TooLarge(format!(
        "the post is {size} bytes; the limit is {MAX_SOURCE_BYTES} bytes (move large images to /api/assets)"
    ))
}

fn utf8(body: &[u8]) -> Result<&str, AppError> {
    std::str::from_utf8(body).map_err(|e| {
        AppError::BadRequest(format!(
            "the body is not valid UTF-8 (first bad byte at offset {}): save the file as UTF-8",
            e.valid_up_to()
        ))
    })
}

/// Reads a Markdown or JSON body, checking type, size and encoding before parsing.
pub(crate) fn submission(req: &Request) -> Result<Submission, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = content_type.split(';').map(str::trim);
    let media = parts.next().unwrap_or("").to_ascii_lowercase();
    let charset_ok = parts.all(|p| {
        p.split_once('=').is_none_or(|(k, v)| {
            !k.trim().eq_ignore_ascii_case("charset")
                || v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        })
    });
    let body = req.body();
    match media.as_str() {
        "text/markdown" | "text/x-markdown" | "text/plain" if charset_ok => {
            if body.len() > MAX_SOURCE_BYTES {
                return Err(too_large(body.len()));
            }
            Ok(Submission {
                source: utf8(body)?.to_owned(),
                file_stem: None,
            })
        }
        "application/json" if charset_ok => {
            if body.len() > MAX_JSON_BYTES {
                return Err(too_large(body.len()));
            }
            let post: JsonPost = serde_json::from_str(utf8(body)?).map_err(|e| {
                AppError::BadRequest(format!(
                    "the body is not the JSON this route takes ({e}); send {{\"source\": \"<markdown with front matter>\", \"file_name\": \"optional.md\"}}"
                ))
            })?;
            if post.source.len() > MAX_SOURCE_BYTES {
                return Err(too_large(post.source.len()));
            }
            let file_stem = post.file_name.as_deref().map(file_stem).transpose()?;
            Ok(Submission {
                source: post.source,
                file_stem,
            })
        }
        _ => Err(AppError::UnsupportedMediaType(format!(
            "send the post as text/markdown (UTF-8) or application/json, not \"{content_type}\""
        ))),
    }
}

/// The stem of a file name the author sent: a name, never a path.
fn file_stem(name: &str) -> Result<String, AppError> {
    if name.contains(['/', '\\']) || name.contains("..") || name.chars().any(char::is_control) {
        return Err(InputError::field(
            "file_name",
            None,
            "must be a plain file name such as my-post.md, without folders or \"..\"",
        )
        .into());
    }
    Ok(authoring::source_stem(name).to_owned())
}

fn url_slug(raw: &str) -> Result<Slug, AppError> {
    Ok(Slug::parse(raw)?)
}

/// The post at `slug` as stored now, or 404.
async fn existing<P: PostWriter, A>(app: &App<P, A>, slug: &Slug) -> Result<Versioned, AppError> {
    app.posts
        .current(slug)
        .await?
        .ok_or_else(|| AppError::NotFound {
            path: post_path(slug),
        })
}

/// The version named by `If-Match` (RFC 9110 13.1.1): required (428 without it, or
/// with `*`, which would let an edit overwrite a newer one); one strong entity tag.
/// A well-formed tag that is not a version this API issued can never match: 412,
/// as for a stale one. A value that is not an entity tag at all is a bad request.
pub(crate) fn if_match(req: &Request) -> Result<u64, AppError> {
    let required = || {
        AppError::PreconditionRequired(
            "send If-Match with the post's ETag (from GET /api/posts/{slug}) so an edit cannot overwrite a newer one; * is not enough".into(),
        )
    };
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(required)?
        .to_str()
        .map(str::trim)
        .unwrap_or("");
    if value == "*" {
        return Err(required());
    }
    let malformed = || {
        AppError::BadRequest(
            "If-Match must be one entity tag as GET returned it, such as \"3\" (with the quotes)"
                .into(),
        )
    };
    let tag = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(malformed)?;
    if tag.contains('"') {
        return Err(malformed());
    }
    tag.parse().map_err(|_| {
        StoreError::Stale(format!(
            "If-Match {value} is not the post's current ETag (GET /api/posts/{{slug}} gives it)"
        ))
        .into()
    })
}

fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

fn compile<P, A>(app: &App<P, A>, sub: &Submission, stem: Option<&str>) -> Result<Post, AppError> {
    Ok(authoring::compile_in(&sub.source, stem, app.config.zone())?)
}

fn absolute<P, A>(app: &App<P, A>, path: &str) -> String {
    format!("{}{path}", app.config.base_url)
}

/// `GET /api/posts`.
pub async fn index<P: PostWriter, A>(app: &App<P, A>) -> Result<Answer, AppError> {
    let posts = app.posts.index().await?;
    let now = Utc::now();
    let posts = posts
        .into_iter()
        .map(|p| PostListEntry {
            path: post_path(&p.slug),
            date: p.date.rfc3339(),
            scheduled_for: (!p.draft && p.date.utc() > now).then(|| {
                schedule::fire_time(p.date.utc()).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            }),
            slug: p.slug,
            title: p.title,
            draft: p.draft,
        })
        .collect();
    Ok(Answer::ok(&PostList { posts }))
}

/// `GET /api/posts/{slug}`.
pub async fn get<P: PostWriter, A>(app: &App<P, A>, raw: &str) -> Result<Answer, AppError> {
    let slug = url_slug(raw)?;
    let Versioned { post, version } = existing(app, &slug).await?;
    let mut answer = Answer::ok(&PostSource {
        version: version.to_string(),
        date: post.date.rfc3339(),
        path: post.path(),
        url: absolute(app, &post.path()),
        source: authoring::to_source(&post),
        slug: post.slug,
        title: post.title,
        draft: post.draft,
        tags: post.tags,
    });
    answer.etag = Some(etag(version));
    Ok(answer)
}

/// `POST /api/posts`.
pub async fn create<P, A, S>(
    app: &App<P, A>,
    schedules: &S,
    req: &Request,
) -> Result<Answer, AppError>
where
    P: Posts + PostWriter,
    S: Schedules,
{
    let sub = submission(req)?;
    let post = compile(app, &sub, sub.file_stem.as_deref())?;
    let slug = post.slug.clone();
    let written = app
        .posts
        .save(&slug, post, &sub.source, Expected::Absent)
        .await?;
    let mut answer = written_answer(app, schedules, WriteStatus::Created, written).await;
    answer.status = StatusCode::CREATED;
    answer.location = Some(format!("/api/posts/{slug}"));
    Ok(answer)
}

/// `PUT /api/posts/{slug}`: replaces the post; a different slug in the front
/// matter renames it and keeps the old URL as an alias.
pub async fn update<P, A, S>(
    app: &App<P, A>,
    schedules: &S,
    raw: &str,
    req: &Request,
) -> Result<Answer, AppError>
where
    P: Posts + PostWriter,
    S: Schedules,
{
    let slug = url_slug(raw)?;
    let version = if_match(req)?;
    let sub = submission(req)?;
    let mut post = compile(app, &sub, Some(slug.as_str()))?;
    let current = existing(app, &slug).await?;
    // Old URLs stay forever: a source without the aliases the post collected (from
    // an earlier rename) keeps them, and a rename adds the URL it leaves.
    let mut keep: Vec<String> = current.post.aliases.clone();
    if post.slug != slug {
        keep.push(post_path(&slug));
    }
    for alias in keep {
        if !post.aliases.contains(&alias) {
            post.aliases.push(alias);
        }
    }
    let own = post.path();
    post.aliases.retain(|a| *a != own);
    if current.version == version && current.post.same_content(&post) {
        // Set its schedule again all the same: publishing again is how an author
        // retries a schedule that failed.
        let actions = schedule::plan(Some(&current.post), Some(&current.post), Utc::now());
        let mut answer = Answer::ok(&WriteReport {
            version: Some(version.to_string()),
            path: post.path(),
            url: absolute(app, &post.path()),
            invalidation: Invalidation::none(),
            schedule: schedule::apply(schedules, actions).await,
            ..WriteReport::new(WriteStatus::Unchanged, slug)
        });
        answer.etag = Some(etag(version));
        return Ok(answer);
    }
    let written = app
        .posts
        .save(&slug, post, &sub.source, Expected::Version(version))
        .await?;
    Ok(written_answer(app, schedules, WriteStatus::Updated, written).await)
}

/// `DELETE /api/posts/{slug}`.
pub async fn delete<P, A, S>(
    app: &App<P, A>,
    schedules: &S,
    raw: &str,
    req: &Request,
) -> Result<Answer, AppError>
where
    P: Posts + PostWriter,
    S: Schedules,
{
    let slug = url_slug(raw)?;
    let version = if_match(req)?;
    existing(app, &slug).await?;
    let written = app.posts.delete(&slug, version).await?;
    Ok(written_answer(app, schedules, WriteStatus::Deleted, written).await)
}

/// After a write: set or clear its post's schedule, and tell the author what
/// happened, what it queued and when a scheduled post goes live.
async fn written_answer<P, A, S: Schedules>(
    app: &App<P, A>,
    schedules: &S,
    status: WriteStatus,
    written: Written,
) -> Answer {
    // The write's own moment, so its paths and its schedule agree on whether the
    // post was public.
    let now = written.at;
    let actions = schedule::plan(
        written.before.as_ref(),
        written.after.as_ref().map(|v| &v.post),
        now,
    );
    let schedule = schedule::apply(schedules, actions).await;
    let (slug, version) = match (&written.after, &written.before) {
        (Some(v), _) => (v.post.slug.clone(), Some(v.version)),
        (None, Some(p)) => (p.slug.clone(), None),
        (None, None) => unreachable!("a write has a post before or after it"),
    };
    let invalidation = Invalidation::of(&written);
    tracing::info!(%slug, status = status.as_str(), invalidation = invalidation.status.as_str(), "published");
    let mut report = WriteReport {
        path: post_path(&slug),
        url: absolute(app, &post_path(&slug)),
        invalidation,
        schedule,
        ..WriteReport::new(status, slug)
    };
    if let Some(v) = &written.after {
        report.version = Some(v.version.to_string());
        report.draft = Some(v.post.draft);
        report.date = Some(v.post.date.rfc3339());
        report.public = Some(v.post.is_public(now));
        report.renamed_from = written
            .before
            .as_ref()
            .filter(|b| b.slug != v.post.slug)
            .map(|b| b.slug.clone());
    }
    let mut answer = Answer::ok(&report);
    answer.etag = version.map(etag);
    answer
}
