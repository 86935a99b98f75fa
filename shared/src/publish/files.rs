//! `/api/assets` (`GET`) and `/api/assets/files/{area}/{key}`: every stored file
//! listed, fetched and put back at its own key, so a site can be exported and
//! restored as it was (`blog export`, then `blog import` of what it wrote).

use base64::Engine as _;
use http::StatusCode;
use serde_json::json;

use super::assets::MAX_ASSET_BYTES;
use super::Answer;
use crate::app::App;
use crate::error::AppError;
use crate::http::Request;
use crate::store::{asset_key, Area, AssetWriter, Fetched, Restored};

/// `GET /api/assets`: every key the site serves, and every original kept.
pub async fn list<P, A: AssetWriter>(app: &App<P, A>) -> Result<Answer, AppError> {
    let assets = app.assets.keys(Area::Served).await?;
    let originals = app.assets.keys(Area::Originals).await?;
    Ok(Answer::ok(
        &json!({ "assets": assets, "originals": originals }),
    ))
}

/// The area and key a `/api/assets/files/…` path names, checked like any asset key.
fn area_key(area: &str, key: &str) -> Result<(Area, String), AppError> {
    let area = Area::parse(area).ok_or_else(|| AppError::NotFound {
        path: format!("/api/assets/files/{area}/"),
    })?;
    let decoded = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
    let key = asset_key(&decoded).ok_or_else(|| {
        AppError::BadRequest(format!(
            "\"{}\" is not a key: folders and names of letters, digits, '-', '_' and '.', no \"..\"",
            decoded.escape_default()
        ))
    })?;
    Ok((area, key.to_owned()))
}

/// `GET /api/assets/files/{area}/{key}`: a URL to download it from (S3, presigned)
/// or its bytes in base64 (the filesystem store).
pub async fn fetch<P, A: AssetWriter>(
    app: &App<P, A>,
    area: &str,
    key: &str,
) -> Result<Answer, AppError> {
    let (area, key) = area_key(area, key)?;
    let body = match app.assets.fetch(area, &key).await? {
        Some(Fetched::Url(url)) => json!({ "key": key, "url": url }),
        Some(Fetched::Bytes(bytes)) => json!({
            "key": key,
            "base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
        }),
        None => {
            return Err(AppError::NotFound {
                path: format!("/api/assets/files/{}/{key}", area.name()),
            })
        }
    };
    Ok(Answer::ok(&body))
}

/// `PUT /api/assets/files/{area}/{key}` with the file as the body: 201 where the
/// key was free, 200 where it held these bytes already, 409 where it holds others
/// (nothing written: a key's bytes never change, caches keep them a year).
pub async fn restore<P, A: AssetWriter>(
    app: &App<P, A>,
    area: &str,
    key: &str,
    req: &Request,
) -> Result<Answer, AppError> {
    let (area, key) = area_key(area, key)?;
    let body = req.body();
    if body.len() > MAX_ASSET_BYTES {
        return Err(AppError::TooLarge(format!(
            "the file is {} bytes; the API takes up to {MAX_ASSET_BYTES} bytes: send a larger original through POST /api/assets/uploads, which keeps it at the same key",
            body.len()
        )));
    }
    let content_type = content_type(&key);
    let path = format!("/{}/{key}", area.name());
    match app
        .assets
        .restore(area, &key, body.clone(), content_type)
        .await?
    {
        Restored::Differs => Err(crate::error::StoreError::Conflict(format!(
            "{path} holds other bytes; a stored file is never replaced"
        ))
        .into()),
        done => {
            let mut answer = Answer::ok(&json!({
                "key": key,
                "path": path,
                "status": if done == Restored::Created { "created" } else { "unchanged" },
            }));
            if done == Restored::Created {
                answer.status = StatusCode::CREATED;
            }
            Ok(answer)
        }
    }
}

/// The media type a key's extension names: what S3 then serves it with.
fn content_type(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("avif") => "image/avif",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}
