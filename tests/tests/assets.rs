//! Photos through the publish API into S3 on moto: a direct upload (a phone JPEG with
//! an EXIF block holding a GPS position and a serial number, and an XMP packet) is
//! made into a set whose every variant, read back from S3, carries none of it, under
//! content-addressed keys with a year of caching; the upload as sent is kept under
//! `originals/`, which is not served. A presigned upload lands among the originals
//! and the process call makes the same set.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use blog_core::{App, Config};
use blog_e2e::api::{self, request};
use blog_e2e::{fixtures, moto};
use blog_test_support::photos::{metadata_found, photo, Photo, SERIAL};
use bytes::Bytes;
use sha2::{Digest, Sha256};

#[tokio::test(flavor = "multi_thread")]
async fn photos_land_in_s3_without_their_metadata_and_are_served() {
    let dir = fixtures::content_dir();
    let (posts, assets, _, bucket) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let app = App::new(Config::for_test(), posts, assets).unwrap();
    let p = api::publisher();
    let s3 = blog_core::aws::s3(&moto::sdk_config(moto::endpoint()).await);
    // Stored sideways (EXIF orientation 6), as phones store portrait photos.
    let jpeg = photo(Photo {
        width: 520,
        height: 400,
        orientation: 6,
        seed: 5,
    });
    assert!(metadata_found(&jpeg).contains(&"serial number"));

    let r = api::call(
        &app,
        &p,
        request(
            "POST",
            "/api/assets?name=holiday.jpg",
            &[],
            Bytes::from(jpeg.clone()),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let key = r.json["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("holiday-") && key.ends_with("/400x520.jpg"),
        "{key}"
    );
    let variants = r.json["image"]["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3, "{}", r.json);
    for variant in variants {
        let variant_key = variant["path"]
            .as_str()
            .unwrap()
            .trim_start_matches("/assets/");
        let object = stored_object(&s3, &bucket, variant_key).await;
        assert_eq!(
            object.cache_control(),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(object.content_type(), variant["type"].as_str());
        let bytes = object.body.collect().await.unwrap().into_bytes();
        assert_eq!(bytes.len() as u64, variant["bytes"].as_u64().unwrap());
        assert_eq!(metadata_found(&bytes), Vec::<&str>::new(), "{variant_key}");
        assert_eq!(
            blog_core::images::dimensions(&bytes),
            Some((400, 520)),
            "{variant_key} is upright"
        );
    }
    // The original is kept whole, GPS and all, where CloudFront cannot read it.
    let set = key.split('/').next().unwrap();
    let original = s3
        .get_object()
        .bucket(&bucket)
        .key(format!("originals/{set}.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(original.cache_control(), None);
    assert_eq!(
        original.body.collect().await.unwrap().into_bytes().as_ref(),
        jpeg.as_slice()
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
    assert!(!served
        .body()
        .windows(SERIAL.len())
        .any(|w| w == SERIAL.as_bytes()));

    // Presigned: the URL takes the file into the originals; the process call makes
    // the same set from it.
    let sha: String = Sha256::digest(&jpeg)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let body =
        serde_json::json!({ "name": "big.jpg", "size": jpeg.len(), "sha256": sha }).to_string();
    let json = [("content-type", "application/json")];
    let r = api::call(
        &app,
        &p,
        request("POST", "/api/assets/uploads", &json, body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let upload = &r.json["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(moto::endpoint()), "{url}");
    assert!(url.contains("/originals/big-"), "{url}");
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
    let process = r.json["process"]["body"].to_string();
    assert_eq!(r.json["process"]["path"], "/api/assets/process");
    // Before the upload there is nothing to process.
    let early = api::call(
        &app,
        &p,
        request("POST", "/api/assets/process", &json, process.clone()),
    )
    .await;
    assert_eq!(early.status, 409, "{}", early.json);
    assert!(early.json["message"]
        .as_str()
        .unwrap()
        .contains("PUT the file"));
    let sent = jpeg.clone();
    let status = tokio::task::spawn_blocking(move || put(&url, &headers, sent))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let done = api::call(
        &app,
        &p,
        request("POST", "/api/assets/process", &json, process),
    )
    .await;
    assert_eq!(done.status, 201, "{}", done.json);
    let big_key = done.json["key"].as_str().unwrap();
    assert_eq!(big_key.replacen("big-", "holiday-", 1), key);
    let object = stored_object(&s3, &bucket, big_key).await;
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(metadata_found(&bytes), Vec::<&str>::new());
}

/// A set is whole or absent: when S3 fails part way through writing one, the upload
/// answers 503 and the variants already written are removed.
#[tokio::test(flavor = "multi_thread")]
async fn a_set_that_fails_part_way_leaves_nothing_served() {
    use blog_e2e::proxy::{CountingProxy, Fault};
    let dir = fixtures::content_dir();
    let (posts, _, _, bucket) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let proxy = CountingProxy::start(moto::endpoint()).await;
    let s3 = blog_core::aws::s3(&moto::sdk_config(&proxy.endpoint()).await);
    let assets = blog_core::store::s3::S3Assets::new(s3.clone(), &bucket);
    let app = App::new(Config::for_test(), posts, assets).unwrap();
    let jpeg = photo(Photo {
        width: 520,
        height: 400,
        orientation: 1,
        seed: 9,
    });
    // The original and two variants are written; every later write fails.
    proxy.inject_after("S3.PUT", 3, Fault::Status500);
    let r = api::call(
        &app,
        &api::publisher(),
        request("POST", "/api/assets?name=cut.jpg", &[], Bytes::from(jpeg)),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.json);
    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("assets/cut-")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0), "{:?}", listed.contents());
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
