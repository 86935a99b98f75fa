//! Image dimensions known at publish, so every `<img>` a post renders carries its
//! `width` and `height` (no layout shift while it loads) without any read at view time.
//!
//! Uploads through the API name their dimensions in their content-addressed key
//! (`/assets/photo-<hash>-<w>x<h>.png`), so the stored Markdown alone decides them and a
//! re-render on deploy needs no I/O. The local store reads its `assets/` folder.
//!
//! Photos are processed at upload (`process`) into a set of widths and formats under
//! one folder, `/assets/<stem>-<hash16>/<w>x<h>.<ext>`; the key of the largest fallback
//! names the whole set, so pages write `<picture>` with `srcset` from it alone.

use std::path::{Path, PathBuf};

#[cfg(feature = "publish")]
pub mod process;

/// Widths a processed image is served at, below its largest. Steps of about 1.33×:
/// the width a screen needs (the column times its density: 372 × 1.75 = 651 for
/// Lighthouse's phone, 350 × 3 = 1,050 for a 390 px phone at 3×) is never far below
/// the one it gets. With 480/960/1,600 alone, that phone took 960 for 651 and
/// Lighthouse's image delivery insight flagged a portrait photo.
pub const WIDTHS: [u32; 5] = [480, 720, 960, 1280, LARGEST];
/// The widest variant: wider than any reader's column at 2–3× density.
pub const LARGEST: u32 = 1600;

/// Formats a processed set holds besides its fallback, best first, as (extension,
/// media type): the `<source>`s of its `<picture>`.
pub const SOURCES: [(&str, &str); 2] = [("avif", "image/avif"), ("webp", "image/webp")];

/// The height of a `w`×`h` image scaled to `to` wide (at least 1).
pub fn scaled_height((w, h): (u32, u32), to: u32) -> u32 {
    let scaled = (u64::from(h) * u64::from(to) + u64::from(w) / 2) / u64::from(w.max(1));
    u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
}

/// The sizes of a set whose largest variant is `largest`, smallest first: the
/// ladder's widths below it (never upscaled), then itself.
pub fn ladder(largest: (u32, u32)) -> Vec<(u32, u32)> {
    WIDTHS
        .iter()
        .copied()
        .filter(|w| *w < largest.0)
        .map(|w| (w, scaled_height(largest, w)))
        .chain([largest])
        .collect()
}

/// A processed set, named by one of its fallbacks: `<dir>/<w>x<h>.<ext>` below `/assets/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetKey<'a> {
    /// `<stem>-<hash16>`.
    pub dir: &'a str,
    /// The named variant's size.
    pub size: (u32, u32),
    /// The fallback's extension (`jpg` or `png`).
    pub ext: &'a str,
}

impl<'a> SetKey<'a> {
    /// The set a page's image `src` names, if it names one.
    pub fn parse(src: &'a str) -> Option<Self> {
        let (dir, file) = src.strip_prefix("/assets/")?.split_once('/')?;
        let (stem, ext) = file.split_once('.')?;
        if !matches!(ext, "jpg" | "png") {
            return None;
        }
        let (_, hash) = dir.rsplit_once('-')?;
        let name_ok = dir
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok || hash.len() != 16 {
            return None;
        }
        Some(Self {
            dir,
            size: parse_size(stem)?,
            ext,
        })
    }

    /// The key (below `assets/`) of the variant at `size` in format `ext`.
    pub fn key(&self, (w, h): (u32, u32), ext: &str) -> String {
        format!("{}/{w}x{h}.{ext}", self.dir)
    }

    /// A `srcset` over the ladder in format `ext`.
    pub fn srcset(&self, ext: &str) -> String {
        ladder(self.size)
            .into_iter()
            .map(|size| format!("/assets/{} {}w", self.key(size, ext), size.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `<w>x<h>`, both positive decimal numbers.
fn parse_size(text: &str) -> Option<(u32, u32)> {
    let (w, h) = text.split_once('x')?;
    let parse = |n: &str| {
        n.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| n.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n > 0)
    };
    Some((parse(w)?, parse(h)?))
}

/// Where the renderer learns an image's intrinsic size from its `src`.
pub trait ImageSizes {
    /// Width and height in CSS pixels, when known.
    fn size(&self, src: &str) -> Option<(u32, u32)>;
}

/// Sizes named by asset keys (`…-<w>x<h>.<ext>` under `/assets/`); nothing else.
#[derive(Debug, Clone, Copy, Default)]
pub struct FromKeys;

impl ImageSizes for FromKeys {
    fn size(&self, src: &str) -> Option<(u32, u32)> {
        if let Some(set) = SetKey::parse(src) {
            return Some(set.size);
        }
        let key = src.strip_prefix("/assets/")?;
        let stem = key.rsplit_once('.')?.0;
        parse_size(stem.rsplit_once('-')?.1)
    }
}

/// Sizes read from files in a folder served at `/assets/` (the local store), then
/// from keys.
#[derive(Debug, Clone)]
pub struct AssetFolder(pub PathBuf);

impl ImageSizes for AssetFolder {
    fn size(&self, src: &str) -> Option<(u32, u32)> {
        if let Some(found) = FromKeys.size(src) {
            return Some(found);
        }
        let key = src.strip_prefix("/assets/")?;
        let key = percent_encoding::percent_decode_str(key)
            .decode_utf8()
            .ok()?;
        if key
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return None;
        }
        let bytes = std::fs::read(Path::new(&self.0).join(&*key)).ok()?;
        dimensions(&bytes)
    }
}

/// A raster image's size from its header (PNG, JPEG, GIF, WebP, AVIF), or an SVG's
/// from its root element's `width` and `height`, else its `viewBox`.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if let Ok(size) = imagesize::blob_size(bytes) {
        let w = u32::try_from(size.width).ok()?;
        let h = u32::try_from(size.height).ok()?;
        return (w > 0 && h > 0).then_some((w, h));
    }
    svg_dimensions(std::str::from_utf8(bytes).ok()?)
}

/// The `<svg …>` start tag's size: `width`/`height` in plain numbers or `px`, else the
/// last two numbers of `viewBox`.
fn svg_dimensions(text: &str) -> Option<(u32, u32)> {
    let start = text.find("<svg")?;
    let tag = &text[start..start + text[start..].find('>')?];
    let attr = |name: &str| -> Option<&str> {
        let mut rest = tag;
        loop {
            let i = rest.find(name)?;
            let before = rest[..i].chars().next_back();
            rest = &rest[i + name.len()..];
            if before.is_some_and(char::is_whitespace) {
                let value = rest.trim_start().strip_prefix('=')?.trim_start();
                let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
                let value = &value[1..];
                return value.find(quote).map(|end| &value[..end]);
            }
        }
    };
    let number = |v: &str| -> Option<u32> {
        let v = v.trim().strip_suffix("px").unwrap_or(v.trim());
        let n: f64 = v.parse().ok()?;
        (1.0..100_000.0).contains(&n).then(|| n.round() as u32)
    };
    if let (Some(w), Some(h)) = (
        attr("width").and_then(number),
        attr("height").and_then(number),
    ) {
        return Some((w, h));
    }
    let view_box: Vec<&str> = attr("viewBox")?
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .collect();
    match view_box.as_slice() {
        [_, _, w, h] => Some((number(w)?, number(h)?)),
        _ => None,
    }
}

/// The part of an asset key that names its size: `-<w>x<h>`.
pub fn key_suffix((w, h): (u32, u32)) -> String {
    format!("-{w}x{h}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_size() {
        assert_eq!(
            FromKeys.size("/assets/photo-0123abcd-640x480.jpg"),
            Some((640, 480))
        );
        assert_eq!(FromKeys.size("/assets/photo-0123abcd.jpg"), None);
        assert_eq!(FromKeys.size("/assets/a-0x480.jpg"), None);
        assert_eq!(FromKeys.size("/assets/a-+1x2.jpg"), None);
        assert_eq!(FromKeys.size("https://example.com/a-1x2.jpg"), None);
    }

    #[test]
    fn sets_are_named_by_their_largest_fallback() {
        let set = SetKey::parse("/assets/photo-0123456789abcdef/1600x1200.jpg").unwrap();
        assert_eq!(set.size, (1600, 1200));
        assert_eq!(
            set.srcset("avif"),
            "/assets/photo-0123456789abcdef/480x360.avif 480w, \
             /assets/photo-0123456789abcdef/720x540.avif 720w, \
             /assets/photo-0123456789abcdef/960x720.avif 960w, \
             /assets/photo-0123456789abcdef/1280x960.avif 1280w, \
             /assets/photo-0123456789abcdef/1600x1200.avif 1600w"
        );
        assert_eq!(
            FromKeys.size("/assets/photo-0123456789abcdef/1600x1200.jpg"),
            Some((1600, 1200))
        );
        // Never upscaled: a 700 px image has a 480 px variant and itself.
        assert_eq!(ladder((700, 3000)), vec![(480, 2057), (700, 3000)]);
        assert_eq!(ladder((300, 200)), vec![(300, 200)]);
        for not_a_set in [
            "/assets/photo-0123456789abcdef/1600x1200.webp",
            "/assets/photo-0123456789abcde/1600x1200.jpg",
            "/assets/Photo-0123456789abcdef/1600x1200.jpg",
            "/assets/photo-0123456789abcdef/x1200.jpg",
            "/assets/photo-0123456789abcdef-1600x1200.jpg",
        ] {
            assert_eq!(SetKey::parse(not_a_set), None, "{not_a_set}");
        }
    }

    #[test]
    fn sizes_from_headers_and_svg() {
        // A 3×2 PNG's header (signature, IHDR length, type, width, height).
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&3u32.to_be_bytes());
        png.extend_from_slice(&2u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(dimensions(&png), Some((3, 2)));
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 300"><g/></svg>"#;
        assert_eq!(dimensions(svg), Some((720, 300)));
        let svg = br#"<svg stroke-width="2" width="100px" height='50'></svg>"#;
        assert_eq!(dimensions(svg), Some((100, 50)));
        assert_eq!(dimensions(b"<svg></svg>"), None);
        assert_eq!(dimensions(b"not an image"), None);
    }

    #[test]
    fn a_folder_never_reads_outside_itself() {
        let folder = AssetFolder(PathBuf::from("/nonexistent"));
        assert_eq!(folder.size("/assets/../etc/passwd"), None);
        assert_eq!(folder.size("/assets/a-1x2.png"), Some((1, 2)));
    }
}
