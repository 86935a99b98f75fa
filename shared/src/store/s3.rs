//! The S3 asset store: objects under `assets/` in one bucket, so CloudFront's
//! `/assets/*` behaviour maps straight onto keys.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use super::{Asset, Assets};
use crate::error::StoreError;

/// Key prefix of every asset in the bucket.
pub const PREFIX: &str = "assets/";
/// Key prefix of uploads as sent: CloudFront may read only `assets/*` (the bucket
/// policy in template.yaml), so these are never public.
pub const ORIGINALS: &str = "originals/";

/// Assets in an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Assets {
    client: Client,
    bucket: String,
}

fn unavailable<E: std::error::Error + Send + Sync + 'static>(
    context: String,
    err: aws_sdk_s3::error::SdkError<E>,
) -> StoreError {
    StoreError::unavailable(
        context,
        aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
    )
}

impl S3Assets {
    /// A store over `bucket`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// Stores an asset under a name that may be reused (seeding a folder's
    /// `assets/`), so it keeps the default caching.
    pub async fn put_file(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_object(key, ByteStream::from(body), content_type, None)
            .await
    }

    async fn put_object(
        &self,
        key: &str,
        body: ByteStream,
        content_type: &str,
        cache_control: Option<&str>,
    ) -> Result<(), StoreError> {
        self.put_at(&format!("{PREFIX}{key}"), body, content_type, cache_control)
            .await
    }

    async fn put_at(
        &self,
        key: &str,
        body: ByteStream,
        content_type: &str,
        cache_control: Option<&str>,
    ) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_cache_control(cache_control.map(str::to_owned))
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable(format!("writing {key}"), e))?;
        Ok(())
    }

    /// The object's bytes, or `None` when it is absent.
    async fn bytes_at(&self, key: &str) -> Result<Option<bytes::Bytes>, StoreError> {
        let Some(out) = self.get_at(key).await? else {
            return Ok(None);
        };
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::unavailable(format!("reading {key}"), e))?;
        Ok(Some(body.into_bytes()))
    }

    async fn get_at(
        &self,
        key: &str,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, StoreError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(unavailable(format!("reading {key}"), e)),
        }
    }
}

impl Assets for S3Assets {
    async fn get(&self, key: &str) -> Result<Option<Asset>, StoreError> {
        let Some(out) = self.get_at(&format!("{PREFIX}{key}")).await? else {
            return Ok(None);
        };
        let content_type = out
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::unavailable(format!("reading asset {key}"), e))?
            .into_bytes();
        Ok(Some(Asset { body, content_type }))
    }
}

fn area_prefix(area: super::Area) -> &'static str {
    match area {
        super::Area::Served => PREFIX,
        super::Area::Originals => ORIGINALS,
    }
}

/// How long a presigned URL (an upload, an export's download) works.
fn presigning() -> Result<aws_sdk_s3::presigning::PresigningConfig, StoreError> {
    aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
        PRESIGNED_SECONDS,
    ))
    .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Caching for content-addressed keys: the bytes under one never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// How long a presigned upload URL works.
const PRESIGNED_SECONDS: u64 = 900;

impl super::AssetWriter for S3Assets {
    async fn put(
        &self,
        key: &str,
        body: bytes::Bytes,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_object(key, ByteStream::from(body), content_type, Some(IMMUTABLE))
            .await
    }

    async fn presign(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        sha256_base64: &str,
    ) -> Result<Option<super::PresignedUpload>, StoreError> {
        let config = presigning()?;
        // Type, length and checksum are signed: S3 refuses any other file. The upload
        // lands with the originals; `/api/assets/process` makes what is served.
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(format!("{ORIGINALS}{key}"))
            .content_type(content_type)
            .content_length(i64::try_from(length).unwrap_or(i64::MAX))
            .checksum_sha256(sha256_base64)
            .presigned(config)
            .await
            .map_err(|e| unavailable(format!("presigning an upload of {key}"), e))?;
        Ok(Some(super::PresignedUpload {
            url: request.uri().to_owned(),
            method: "PUT",
            headers: request
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            expires_in: PRESIGNED_SECONDS,
        }))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(format!("{PREFIX}{key}"))
            .send()
            .await
            .map_err(|e| unavailable(format!("deleting asset {key}"), e))?;
        Ok(())
    }

    async fn put_original(
        &self,
        key: &str,
        body: bytes::Bytes,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_at(
            &format!("{ORIGINALS}{key}"),
            ByteStream::from(body),
            content_type,
            None,
        )
        .await
    }

    async fn keys(&self, area: super::Area) -> Result<Vec<String>, StoreError> {
        let prefix = area_prefix(area);
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| unavailable(format!("listing {prefix}"), e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key()?.strip_prefix(prefix).map(str::to_owned)),
            );
        }
        keys.sort();
        Ok(keys)
    }

    async fn fetch(
        &self,
        area: super::Area,
        key: &str,
    ) -> Result<Option<super::Fetched>, StoreError> {
        let full = format!("{}{key}", area_prefix(area));
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await;
        match head {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(None),
            Err(e) => return Err(unavailable(format!("reading {full}"), e)),
        }
        let config = presigning()?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .presigned(config)
            .await
            .map_err(|e| unavailable(format!("presigning a download of {full}"), e))?;
        Ok(Some(super::Fetched::Url(request.uri().to_owned())))
    }

    async fn restore(
        &self,
        area: super::Area,
        key: &str,
        body: bytes::Bytes,
        content_type: &str,
    ) -> Result<super::Restored, StoreError> {
        let full = format!("{}{key}", area_prefix(area));
        let cache =
            (area == super::Area::Served && super::is_content_addressed(key)).then_some(IMMUTABLE);
        // S3's conditional write: only where no object is (If-None-Match: *). S3
        // answers 412 when one is there and 409 when another write to the key is in
        // flight (S3 User Guide, "Add preconditions to S3 operations with conditional
        // requests").
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .content_type(content_type)
            .set_cache_control(cache.map(str::to_owned))
            .if_none_match("*")
            .body(ByteStream::from(body.clone()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(super::Restored::Created),
            Err(e)
                if matches!(
                    e.raw_response().map(|r| r.status().as_u16()),
                    Some(412 | 409)
                ) =>
            {
                let Some(held) = self.bytes_at(&full).await? else {
                    return Err(StoreError::unavailable(
                        format!("restoring {full}"),
                        "the object was there and then was not; try again",
                    ));
                };
                Ok(if held == body {
                    super::Restored::Unchanged
                } else {
                    super::Restored::Differs
                })
            }
            Err(e) => Err(unavailable(format!("restoring {full}"), e)),
        }
    }

    async fn get_original(&self, key: &str) -> Result<Option<bytes::Bytes>, StoreError> {
        self.bytes_at(&format!("{ORIGINALS}{key}")).await
    }
}
