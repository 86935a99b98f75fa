//! Images through the publish API into S3 on moto: a direct upload is stored under
//! its content hash with the sniffed type and a year of caching, and a presigned
//! upload lands exactly the file it was signed for.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use blog_core::{App, Config};
use blog_e2e::api::{self, request};
use blog_e2e::{fixtures, moto};
use bytes::Bytes;
use sha2::{Digest, Sha256};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-a-test-image-for-s3";

#[tokio::test(flavor = "multi_thread")]
async fn uploads_land_in_s3_by_content_and_are_served() {
    let dir = fixtures::content_dir();
    let (posts, assets, _, bucket) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let app = App::new(Config::for_test(), posts, assets).unwrap();
    let p = api::publisher();
    let s3 = blog_core::aws::s3(&moto::sdk_config(moto::endpoint()).await);

    // Direct: sniffed type, content-addressed key, immutable caching.
    let r = api::call(
        &app,
        &p,
        request(
            "POST",
            "/api/assets?name=photo.png",
            &[],
            Bytes::from_static(PNG),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let key = r.json["key"].as_str().unwrap().to_owned();
    let object = stored_object(&s3, &bucket, &key).await;
    assert_eq!(object.content_type(), Some("image/png"));
    assert_eq!(
        object.cache_control(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        PNG
    );
    let served = blog_core::routes::handle(
        &app,
        None,
        http::Request::get(format!("/assets/{key}"))
            .body(Bytes::new())
            .unwrap(),
    )
    .await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.body().as_ref(), PNG);

    // Presigned: the URL takes exactly the signed file.
    let big: Vec<u8> = PNG.iter().copied().cycle().take(200_000).collect();
    let sha: String = Sha256::digest(&big)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let body =
        serde_json::json!({ "name": "big.png", "size": big.len(), "sha256": sha }).to_string();
    let r = api::call(
        &app,
        &p,
        request(
            "POST",
            "/api/assets/uploads",
            &[("content-type", "application/json")],
            body,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let upload = &r.json["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(moto::endpoint()), "{url}");
    let headers: Vec<(String, String)> = upload["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        headers.iter().any(|(k, _)| k == "x-amz-checksum-sha256"),
        "{headers:?}"
    );
    // (S3 checks the signed x-amz-checksum-sha256 against the bytes; moto does not,
    // so only the signed headers are asserted above.)
    let status = tokio::task::spawn_blocking(move || put(&url, &headers, big))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let key = r.json["key"].as_str().unwrap();
    assert!(key.starts_with("big-") && key.ends_with(".png"), "{key}");
    let object = stored_object(&s3, &bucket, key).await;
    assert_eq!(object.content_type(), Some("image/png"));
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().len(),
        200_000
    );
}

/// PUTs `body` to a presigned URL with its signed headers.
fn put(url: &str, headers: &[(String, String)], body: Vec<u8>) -> u16 {
    let mut req = http::Request::builder().method("PUT").uri(url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .run(req.body(body).unwrap())
        .unwrap()
        .status()
        .as_u16()
}

/// The stored object of an asset key.
async fn stored_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> aws_sdk_s3::operation::get_object::GetObjectOutput {
    s3.get_object()
        .bucket(bucket)
        .key(format!("assets/{key}"))
        .send()
        .await
        .unwrap()
}
