//! Image dimensions known at publish, so every `<img>` a post renders carries its
//! `width` and `height` (no layout shift while it loads) without any read at view time.
//!
//! Uploads through the API name their dimensions in their content-addressed key
//! (`/assets/photo-<hash>-<w>x<h>.png`), so the stored Markdown alone decides them and a
//! re-render on deploy needs no I/O. The local store reads its `assets/` folder.

use std::path::{Path, PathBuf};

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
        let key = src.strip_prefix("/assets/")?;
        let stem = key.rsplit_once('.')?.0;
        let dims = stem.rsplit_once('-')?.1;
        let (w, h) = dims.split_once('x')?;
        let parse = |n: &str| {
            n.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| n.parse::<u32>().ok())
                .flatten()
                .filter(|n| *n > 0)
        };
        Some((parse(w)?, parse(h)?))
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
