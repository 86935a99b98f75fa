//! `/api/assets`: images into the asset store under content-addressed keys. The
//! type comes from the bytes, never from the name; SVG is refused because it can
//! carry script that would run on the site's own origin.

use super::replies::{ImageSetReply, PresignedReply, ProcessCall, StoredAsset, VariantReply};
use crate::images::process;
use base64::Engine as _;
use http::StatusCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Answer;
use crate::app::App;
use crate::error::{AppError, InputError};
use crate::http::Request;
use crate::store::AssetWriter;

/// Largest upload through the API: API Gateway and Lambda cap request payloads at
/// 6 MB and binary bodies arrive base64-encoded.
pub const MAX_ASSET_BYTES: usize = 4 * 1024 * 1024;
/// Largest presigned upload.
pub const MAX_PRESIGNED_BYTES: u64 = 50 * 1024 * 1024;

/// An image type the site serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageType {
    /// Media type.
    pub mime: &'static str,
    /// File extension.
    pub ext: &'static str,
}

const PNG: ImageType = ImageType {
    mime: "image/png",
    ext: "png",
};
const JPEG: ImageType = ImageType {
    mime: "image/jpeg",
    ext: "jpg",
};
const GIF: ImageType = ImageType {
    mime: "image/gif",
    ext: "gif",
};
const WEBP: ImageType = ImageType {
    mime: "image/webp",
    ext: "webp",
};
const AVIF: ImageType = ImageType {
    mime: "image/avif",
    ext: "avif",
};

const ACCEPTED: &str = "PNG, JPEG, GIF, WebP or AVIF";

/// The image type of `bytes`, by their signature.
pub fn sniff(bytes: &[u8]) -> Result<ImageType, AppError> {
    let found = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PNG)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(JPEG)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(GIF)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(WEBP)
    } else if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(&bytes[8..12], b"avif" | b"avis")
    {
        Some(AVIF)
    } else {
        None
    };
    found.ok_or_else(|| {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
        if head.contains("<svg") {
            AppError::UnsupportedMediaType(
                "SVG is refused: it can carry script that would run on the site. Convert it to PNG or WebP".into(),
            )
        } else {
            AppError::UnsupportedMediaType(format!(
                "the file is not a {ACCEPTED} image (its content decides, not its name)"
            ))
        }
    })
}

/// The image type a file name promises (presigned uploads, where the bytes are not
/// seen): checked again by S3, which stores the signed `Content-Type`.
fn type_by_name(name: &str) -> Result<ImageType, AppError> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => Ok(PNG),
        Some("jpg" | "jpeg") => Ok(JPEG),
        Some("gif") => Ok(GIF),
        Some("webp") => Ok(WEBP),
        Some("avif") => Ok(AVIF),
        Some("svg") => Err(AppError::UnsupportedMediaType(
            "SVG is refused: it can carry script that would run on the site. Convert it to PNG or WebP".into(),
        )),
        _ => Err(AppError::UnsupportedMediaType(format!(
            "name the file .png, .jpg, .gif, .webp or .avif: only {ACCEPTED} images are taken"
        ))),
    }
}

/// Checks an uploaded file's name and makes the readable part of its key.
pub fn name_stem(name: &str) -> Result<String, AppError> {
    let bad = |why: &str| -> AppError { InputError::field("name", None, why.to_owned()).into() };
    if name.is_empty() {
        return Err(bad("is missing: add ?name=photo.png"));
    }
    if name.contains(['/', '\\']) || name.contains("..") {
        return Err(bad(
            "must be a file name, without folders, slashes or \"..\"",
        ));
    }
    if name.starts_with('.') || name.chars().any(char::is_control) || name.len() > 200 {
        return Err(bad(
            "must not start with '.', contain control characters, or pass 200 bytes",
        ));
    }
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let clean = slug::slugify(stem);
    Ok(if clean.is_empty() {
        "file".to_owned()
    } else {
        clean.chars().take(60).collect()
    })
}

/// `photo-<hash>.png`, or `photo-<hash>-<w>x<h>.png` when the size is known: pages
/// then give the image its width and height from the key alone (`images::FromKeys`).
fn key(stem: &str, sha256: &[u8], size: Option<(u32, u32)>, ext: &str) -> String {
    let size = size.map(crate::images::key_suffix).unwrap_or_default();
    format!("{stem}-{}{size}.{ext}", hash16(sha256))
}

/// The key among the originals that a presigned upload of `bytes` named `name`
/// gets: what `blog import` of an export checks before sending a large original back.
pub fn original_key(name: &str, bytes: &[u8]) -> Result<String, AppError> {
    let kind = type_by_name(name)?;
    Ok(key(
        &name_stem(name)?,
        &Sha256::digest(bytes),
        None,
        kind.ext,
    ))
}

/// The first 8 bytes of a SHA-256, in hex: what keys name their content by.
fn hash16(sha256: &[u8]) -> String {
    sha256[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The upload's `?name=`, decoded leniently: a name that is not UTF-8 still names
/// the file (`name_stem` keeps what it can), it is not "missing".
pub(crate) fn query_name(req: &Request) -> String {
    let query = req.uri().query().unwrap_or("");
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "name")
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default()
}

/// Where an upload's original is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Original {
    /// Only in the request: keep it.
    InRequest,
    /// Already among the originals (a presigned upload).
    Kept,
}

/// Makes an upload what pages serve and stores it: photos as an image set (the
/// original kept privately), GIFs as sent (their animation is the point).
async fn store_upload<P, A: AssetWriter>(
    app: &App<P, A>,
    stem: &str,
    body: bytes::Bytes,
    original: Original,
) -> Result<StoredAsset, AppError> {
    let kind = sniff(&body)?;
    let digest = Sha256::digest(&body);
    let original_key = key(stem, &digest, None, kind.ext);
    if kind == GIF {
        let key = key(stem, &digest, crate::images::dimensions(&body), kind.ext);
        let gif = process::strip_gif(&body)?;
        if original == Original::InRequest {
            app.assets
                .put_original(&original_key, body, kind.mime)
                .await?;
        }
        app.assets.put(&key, gif.into(), kind.mime).await?;
        return Ok(stored(app, &key, stem, None));
    }
    if kind == AVIF {
        return Err(AppError::UnsupportedMediaType(
            "send the photo as JPEG, PNG or WebP: the site makes the AVIF and WebP versions itself"
                .into(),
        ));
    }
    let set_name = format!("{stem}-{}", hash16(&digest));
    let original_bytes = body.len();
    // Decoding and encoding take the CPU for seconds: off the async threads.
    let bytes = body.clone();
    let processed = tokio::task::spawn_blocking(move || process::process(&bytes, &set_name))
        .await
        .map_err(|e| AppError::BadRequest(format!("image processing stopped: {e}")))??;
    if original == Original::InRequest {
        app.assets
            .put_original(&original_key, body, kind.mime)
            .await?;
    }
    store_set(app, &processed).await?;
    let image = ImageSetReply {
        width: processed.size.0,
        height: processed.size.1,
        original_width: processed.original.0,
        original_height: processed.original.1,
        original_bytes,
        variants: processed
            .variants
            .iter()
            .map(|v| VariantReply {
                path: format!("/assets/{}", v.key),
                mime: v.mime,
                bytes: v.bytes.len(),
            })
            .collect(),
    };
    Ok(stored(app, &processed.key, stem, Some(image)))
}

/// Writes a set in order, its named fallback last, so a set whose key exists is
/// whole; when a write fails, removes what was written.
async fn store_set<P, A: AssetWriter>(
    app: &App<P, A>,
    processed: &process::Processed,
) -> Result<(), AppError> {
    for (i, variant) in processed.variants.iter().enumerate() {
        let body = variant.bytes.clone(); // a reference count, not a copy
        if let Err(e) = app.assets.put(&variant.key, body, variant.mime).await {
            for written in &processed.variants[..i] {
                if let Err(undo) = app.assets.delete(&written.key).await {
                    tracing::warn!(key = %written.key, error = %undo, "could not remove part of a failed image set");
                }
            }
            return Err(e.into());
        }
    }
    Ok(())
}

fn stored<P, A>(
    app: &App<P, A>,
    key: &str,
    stem: &str,
    image: Option<ImageSetReply>,
) -> StoredAsset {
    let path = format!("/assets/{key}");
    StoredAsset {
        key: key.to_owned(),
        url: format!("{}{path}", app.config.base_url),
        markdown: format!("![{stem}]({path})"),
        path,
        upload: None,
        image,
    }
}

/// `POST /api/assets?name=photo.png` with the image as the body.
pub async fn upload<P, A: AssetWriter>(app: &App<P, A>, req: &Request) -> Result<Answer, AppError> {
    let stem = name_stem(&query_name(req))?;
    let body = req.body();
    if body.is_empty() {
        return Err(AppError::BadRequest(
            "the body is empty: send the image's bytes".into(),
        ));
    }
    if body.len() > MAX_ASSET_BYTES {
        return Err(AppError::TooLarge(format!(
            "the file is {} bytes; the API takes up to {MAX_ASSET_BYTES} bytes: use POST /api/assets/uploads for a presigned upload",
            body.len()
        )));
    }
    let reply = store_upload(app, &stem, body.clone(), Original::InRequest).await?;
    Ok(created(&reply))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadRequest {
    name: String,
    size: u64,
    /// Hex SHA-256 of the file.
    sha256: String,
}

/// `POST /api/assets/uploads` with `{"name", "size", "sha256"}`: a URL to PUT the
/// file to, signed for exactly that type, length and checksum. The file lands among
/// the originals; `POST /api/assets/process` then makes it what pages serve. A call
/// rather than an S3 event: the author learns at once whether the file was usable,
/// and gets the Markdown to paste, in the same command.
pub async fn presign<P, A: AssetWriter>(
    app: &App<P, A>,
    req: &Request,
) -> Result<Answer, AppError> {
    let up: UploadRequest = serde_json::from_slice(req.body()).map_err(|e| {
        AppError::BadRequest(format!(
            "the body is not the JSON this route takes ({e}); send {{\"name\": \"photo.jpg\", \"size\": 12345678, \"sha256\": \"<hex>\"}}"
        ))
    })?;
    let stem = name_stem(&up.name)?;
    let kind = type_by_name(&up.name)?;
    if up.size == 0 || up.size > MAX_PRESIGNED_BYTES {
        return Err(AppError::TooLarge(format!(
            "size must be between 1 and {MAX_PRESIGNED_BYTES} bytes, got {}",
            up.size
        )));
    }
    let digest = hex_digest(&up.sha256).ok_or_else(|| {
        InputError::field(
            "sha256",
            None,
            "must be the file's SHA-256 as 64 hex digits",
        )
    })?;
    let original = key(&stem, &digest, None, kind.ext);
    let checksum = base64::engine::general_purpose::STANDARD.encode(digest);
    let Some(upload) = app
        .assets
        .presign(&original, kind.mime, up.size, &checksum)
        .await?
    else {
        return Err(AppError::BadRequest(format!(
            "this server has no presigned uploads: send files up to {MAX_ASSET_BYTES} bytes to POST /api/assets, or copy larger ones into the content folder's assets/"
        )));
    };
    Ok(Answer::ok(&PresignedReply {
        process: ProcessCall {
            method: "POST",
            path: "/api/assets/process",
            body: serde_json::json!({ "original": original }),
        },
        original,
        upload,
    }))
}

fn hex_digest(hex: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(digest)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessRequest {
    original: String,
}

/// `POST /api/assets/process` with `{"original"}` (from the presign answer), after
/// the upload: the same processing as a direct upload.
pub async fn process<P, A: AssetWriter>(
    app: &App<P, A>,
    req: &Request,
) -> Result<Answer, AppError> {
    let asked: ProcessRequest = serde_json::from_slice(req.body()).map_err(|e| {
        AppError::BadRequest(format!(
            "the body is not the JSON this route takes ({e}); send {{\"original\": \"<the presign answer's original>\"}}"
        ))
    })?;
    let bad =
        |why: &str| -> AppError { InputError::field("original", None, why.to_owned()).into() };
    // `<stem>-<hash16>.<ext>`, exactly as `presign` named it.
    let (set_name, ext) = asked
        .original
        .rsplit_once('.')
        .ok_or_else(|| bad("must be the presign answer's \"original\""))?;
    let (stem, hash) = set_name
        .rsplit_once('-')
        .ok_or_else(|| bad("must be the presign answer's \"original\""))?;
    if name_stem(&asked.original).ok().as_deref() != Some(set_name)
        || hash.len() != 16
        || type_by_name(&asked.original).ok().map(|t| t.ext) != Some(ext)
    {
        return Err(bad("must be the presign answer's \"original\""));
    }
    let Some(body) = app.assets.get_original(&asked.original).await? else {
        // The request is sound; the store is not there yet: 409, as for a write
        // that finds another state than it needs.
        return Err(crate::error::StoreError::Conflict(format!(
            "nothing was uploaded as {}: PUT the file to the presigned URL first, then call this again",
            asked.original
        ))
        .into());
    };
    let digest = Sha256::digest(&body);
    if hash16(&digest) != hash {
        return Err(bad(
            "the uploaded file is not the one the upload was signed for",
        ));
    }
    let reply = store_upload(app, stem, body, Original::Kept).await?;
    Ok(created(&reply))
}

/// `201 Created` with what an upload was stored as.
fn created(reply: &StoredAsset) -> Answer {
    let mut answer = Answer::ok(reply);
    answer.status = StatusCode::CREATED;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").unwrap(), PNG);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(), JPEG);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), WEBP);
        assert_eq!(sniff(b"\0\0\0\x1cftypavif").unwrap(), AVIF);
        for bad in [
            &b"<svg onload=alert(1)>"[..],
            b"<?xml version=\"1.0\"?><SVG>",
            b"<html>",
            b"PNG",
        ] {
            assert!(
                matches!(sniff(bad), Err(AppError::UnsupportedMediaType(_))),
                "{bad:?}"
            );
        }
        assert!(format!("{:?}", sniff(b"<svg/>")).contains("SVG is refused"));
    }

    #[test]
    fn names_are_file_names() {
        assert_eq!(name_stem("My Photo.PNG").unwrap(), "my-photo");
        for bad in ["", "../x.png", "a/b.png", "a\\b.png", ".env", "a..png"] {
            assert!(matches!(name_stem(bad), Err(AppError::Input(_))), "{bad}");
        }
        assert_eq!(key("a", &[0xab; 32], None, "png"), "a-abababababababab.png");
        assert_eq!(
            key("a", &[0xab; 32], Some((640, 480)), "png"),
            "a-abababababababab-640x480.png"
        );
    }
}
