//! GET `/assets/{key}`: images and files from the asset store.

use crate::app::App;
use crate::error::AppError;
use crate::http::{Caching, Reply};
use crate::store::{asset_key, is_content_addressed, Assets, Posts};

/// Serves one asset; a key that is not a safe path is simply not found.
pub async fn get<P: Posts, A: Assets>(app: &App<P, A>, raw_key: &str) -> Result<Reply, AppError> {
    let not_found = || AppError::NotFound {
        path: format!("/assets/{raw_key}"),
    };
    let key = asset_key(raw_key).ok_or_else(not_found)?;
    let asset = app.assets.get(key).await?.ok_or_else(not_found)?;
    let caching = if is_content_addressed(key) {
        Caching::Immutable
    } else {
        Caching::Asset
    };
    Ok(Reply::ok(asset.content_type, asset.body, caching))
}
