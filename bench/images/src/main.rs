//! `bench-images make DIR`: writes the benchmark's photos (photo-like, with EXIF and
//! GPS, made by `blog_test_support::photos`) as JPEG at phone quality.
//! `bench-images sample DIR`: a post with three processed photos in a content folder
//! (`DIR/photos-from-a-walk.md`, `DIR/assets/…`), for the browser checks.
//! `bench-images process FILE`: processes one as an upload is processed, and prints
//! one JSON line: time, peak memory (the process's high-water mark) and every
//! variant's bytes. One file per process, so the high-water mark is that file's.

use std::time::Instant;

use anyhow::{bail, Context};
use blog_test_support::photos::{metadata_found, photo, Photo};

/// Phone-camera sizes: 3, 12 (most phones' default) and 48 megapixels.
const SIZES: [(&str, u32, u32); 3] = [
    ("3mp", 2016, 1512),
    ("12mp", 4032, 3024),
    ("48mp", 8064, 6048),
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["make", dir] => {
            std::fs::create_dir_all(dir)?;
            for (i, (name, width, height)) in SIZES.into_iter().enumerate() {
                let path = std::path::Path::new(dir).join(format!("{name}.jpg"));
                if path.exists() {
                    continue;
                }
                let jpeg = photo(Photo {
                    width,
                    height,
                    orientation: 1,
                    seed: 11 + i as u64,
                });
                std::fs::write(&path, jpeg)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(())
        }
        ["sample", dir] => sample(std::path::Path::new(dir)),
        ["process", file] => {
            let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
            let before = high_water_kb()?;
            let start = Instant::now();
            let set = blog_core::images::process::process(&bytes, "bench-0123456789abcdef")
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let ms = start.elapsed().as_secs_f64() * 1e3;
            let leaks: Vec<&str> = set
                .variants
                .iter()
                .flat_map(|v| metadata_found(&v.bytes))
                .collect();
            if !leaks.is_empty() {
                bail!("metadata in a variant: {leaks:?}");
            }
            let variants: Vec<serde_json::Value> = set
                .variants
                .iter()
                .map(|v| serde_json::json!({ "key": v.key, "bytes": v.bytes.len() }))
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "file": file,
                    "bytes": bytes.len(),
                    "width": set.original.0,
                    "height": set.original.1,
                    "ms": ms,
                    "peak_kb": high_water_kb()?,
                    "start_kb": before,
                    "variants": variants,
                })
            );
            Ok(())
        }
        _ => bail!("usage: bench-images make DIR | bench-images process FILE"),
    }
}

/// The process's peak resident memory (VmHWM), in KiB.
fn high_water_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")
}

/// Three photos (landscape, portrait stored sideways, a wide one), processed as
/// uploads are, and a post showing them.
fn sample(dir: &std::path::Path) -> anyhow::Result<()> {
    let shots = [
        (2016, 1512, 1, "A ridge at dusk"),
        (1512, 1134, 6, "The path up, held upright"),
        (2400, 1000, 1, "The valley, wide"),
    ];
    let mut body = String::from(
        "---\ntitle: Photos from a walk\ndate: 2024-06-01\ntags: [photos]\ndescription: Three phone photos, served as AVIF, WebP and JPEG at up to five widths.\n---\n\nThree photos from a phone, each uploaded as a JPEG with an EXIF block (a GPS position included) and served without it.\n\n",
    );
    for (i, (width, height, orientation, alt)) in shots.into_iter().enumerate() {
        let jpeg = photo(Photo {
            width,
            height,
            orientation,
            seed: 100 + i as u64,
        });
        let set =
            blog_core::images::process::process(&jpeg, &format!("walk-{i}-0123456789abcd{i:02}"))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        for v in &set.variants {
            let path = dir.join("assets").join(&v.key);
            std::fs::create_dir_all(path.parent().context("a key has a folder")?)?;
            std::fs::write(&path, &v.bytes)?;
        }
        body.push_str(&format!(
            "![{alt}](/assets/{})\n\nPhoto {} of three.\n\n",
            set.key,
            i + 1
        ));
    }
    std::fs::write(dir.join("photos-from-a-walk.md"), body)?;
    Ok(())
}
