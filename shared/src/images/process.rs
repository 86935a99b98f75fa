//! Uploaded photos made fit to serve, once, at upload: decoded with their EXIF
//! orientation applied, resized to the width ladder, and encoded afresh as AVIF, lossy
//! WebP and a JPEG (or PNG, when the image has transparency) fallback. Encoding from
//! pixels writes no metadata at all, so no served file carries the EXIF, XMP or GPS
//! blocks of the upload; the untouched original is kept privately by the store.

use std::io::Cursor;

use fast_image_resize as fr;
use image::{DynamicImage, ImageDecoder, ImageReader};

use super::{ladder, scaled_height, SetKey, LARGEST};
use crate::error::AppError;

/// Most pixels an upload may decode to (a decompression bomb's defence): 50 MP takes
/// the 48–50 MP sensors of current phones. Processing a 48 MP photo peaked at 232 MiB
/// (README "Images"), well inside the publish function's memory.
pub const MAX_PIXELS: u64 = 50_000_000;

/// AVIF quality and speed. Measured on a 3 MP photo (README "Images"): speed 8 took
/// 5.7 s, 9 took 3.4 s with files within 2% of 8's, 10 took 2.1 s with files 9–17%
/// larger; at 9 a 48 MP photo takes 6.0 s at the publish function's 1,769 MB.
const AVIF_QUALITY: f32 = 62.0;
const AVIF_SPEED: u8 = 9;
/// Lossy WebP quality (libwebp's scale).
const WEBP_QUALITY: f32 = 75.0;
/// JPEG fallback quality.
const JPEG_QUALITY: u8 = 80;

/// One encoded file of a set.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Key below `assets/`.
    pub key: String,
    /// The encoded bytes (shared: stored without a copy).
    pub bytes: bytes::Bytes,
    /// Media type.
    pub mime: &'static str,
}

/// Every file one upload is served as; `key` is the largest fallback, the one Markdown
/// names (the others follow from it: `images::ImageSet`).
#[derive(Debug, Clone)]
pub struct Processed {
    /// The key pages reference.
    pub key: String,
    /// Its size, upright.
    pub size: (u32, u32),
    /// The upload's size, upright.
    pub original: (u32, u32),
    /// All variants; the referenced fallback comes last, so a set whose `key` exists
    /// is whole (the writer stores them in order).
    pub variants: Vec<Variant>,
}

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::UnsupportedMediaType(format!(
        "the image could not be decoded ({e}): it is damaged or not a PNG, JPEG or WebP file"
    ))
}

/// Decodes, orients and encodes `bytes` into a set named `<stem>-<hash16>/`.
pub fn process(bytes: &[u8], set_name: &str) -> Result<Processed, AppError> {
    let image = decode(bytes)?;
    let original = (image.width(), image.height());
    let opaque = !image.color().has_alpha() || image.to_rgba8().pixels().all(|p| p.0[3] == 255);
    let (fallback_ext, fallback_mime) = if opaque {
        ("jpg", "image/jpeg")
    } else {
        ("png", "image/png")
    };
    let largest_w = original.0.min(LARGEST);
    let largest = (largest_w, scaled_height(original, largest_w));
    let (pixels, channels) = if opaque {
        (image.into_rgb8().into_raw(), 3)
    } else {
        (image.into_rgba8().into_raw(), 4)
    };
    let set = SetKey {
        dir: set_name,
        size: largest,
        ext: fallback_ext,
    };
    let mut variants = Vec::new();
    let mut fallbacks = Vec::new();
    for size in ladder(largest) {
        let resized = resize(&pixels, original, size, channels)?;
        variants.push(Variant {
            key: set.key(size, "avif"),
            bytes: avif(&resized, size, channels)?.into(),
            mime: "image/avif",
        });
        variants.push(Variant {
            key: set.key(size, "webp"),
            bytes: webp(&resized, size, channels).into(),
            mime: "image/webp",
        });
        fallbacks.push(Variant {
            key: set.key(size, fallback_ext),
            bytes: fallback(&resized, size, channels)?.into(),
            mime: fallback_mime,
        });
    }
    variants.extend(fallbacks);
    Ok(Processed {
        key: set.key(largest, fallback_ext),
        size: largest,
        original,
        variants,
    })
}

/// The upload's pixels, upright, after the pixel-count check on its header.
fn decode(bytes: &[u8]) -> Result<DynamicImage, AppError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(unreadable)?;
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels > MAX_PIXELS {
        return Err(AppError::TooLarge(format!(
            "the image is {w}×{h} ({:.1} megapixels); the limit is {} megapixels: scale it down before uploading",
            pixels as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        )));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    // Decoded pixels at up to 8 bytes each, plus the decoder's own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 8);
    decoder.set_limits(limits).map_err(unreadable)?;
    // A damaged EXIF block is no reason to refuse the picture: upright as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// `pixels` at the new size; the same pixels, uncopied, when the size is theirs.
fn resize(
    pixels: &[u8],
    (w, h): (u32, u32),
    (to_w, to_h): (u32, u32),
    channels: usize,
) -> Result<std::borrow::Cow<'_, [u8]>, AppError> {
    if (w, h) == (to_w, to_h) {
        return Ok(std::borrow::Cow::Borrowed(pixels));
    }
    let kind = if channels == 3 {
        fr::PixelType::U8x3
    } else {
        fr::PixelType::U8x4
    };
    let failed = |e: &dyn std::fmt::Display| AppError::BadRequest(format!("resizing failed: {e}"));
    let src = fr::images::ImageRef::new(w, h, pixels, kind).map_err(|e| failed(&e))?;
    let mut dst = fr::images::Image::new(to_w, to_h, kind);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    fr::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| failed(&e))?;
    Ok(dst.into_vec().into())
}

fn avif(pixels: &[u8], (w, h): (u32, u32), channels: usize) -> Result<Vec<u8>, AppError> {
    let encoder = ravif::Encoder::new()
        .with_quality(AVIF_QUALITY)
        .with_alpha_quality(AVIF_QUALITY)
        .with_speed(AVIF_SPEED);
    let (w, h) = (w as usize, h as usize);
    let encoded = if channels == 3 {
        let rgb: Vec<ravif::RGB8> = pixels
            .chunks_exact(3)
            .map(|p| ravif::RGB8::new(p[0], p[1], p[2]))
            .collect();
        encoder.encode_rgb(ravif::Img::new(&rgb[..], w, h))
    } else {
        let rgba: Vec<ravif::RGBA8> = pixels
            .chunks_exact(4)
            .map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3]))
            .collect();
        encoder.encode_rgba(ravif::Img::new(&rgba[..], w, h))
    };
    encoded
        .map(|e| e.avif_file)
        .map_err(|e| AppError::BadRequest(format!("AVIF encoding failed: {e}")))
}

fn webp(pixels: &[u8], (w, h): (u32, u32), channels: usize) -> Vec<u8> {
    let encoder = if channels == 3 {
        webp::Encoder::from_rgb(pixels, w, h)
    } else {
        webp::Encoder::from_rgba(pixels, w, h)
    };
    encoder.encode(WEBP_QUALITY).to_vec()
}

fn fallback(pixels: &[u8], (w, h): (u32, u32), channels: usize) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    let failed = |e: image::ImageError| AppError::BadRequest(format!("encoding failed: {e}"));
    if channels == 3 {
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .encode(pixels, w, h, image::ExtendedColorType::Rgb8)
            .map_err(failed)?;
    } else {
        use image::ImageEncoder as _;
        image::codecs::png::PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Best,
            image::codecs::png::FilterType::Adaptive,
        )
        .write_image(pixels, w, h, image::ExtendedColorType::Rgba8)
        .map_err(failed)?;
    }
    Ok(out)
}

/// A GIF as sent, less what is not picture or timing: comment extensions and
/// application extensions other than looping (`NETSCAPE2.0`), where XMP packets live.
/// GIFs are kept, not re-encoded: their animation is the point.
pub fn strip_gif(bytes: &[u8]) -> Result<Vec<u8>, AppError> {
    let damaged = || unreadable("the GIF ends early or has an unknown block");
    let mut out = Vec::with_capacity(bytes.len());
    let header = bytes.get(..13).ok_or_else(damaged)?;
    let color_table = |flags: u8| {
        if flags & 0x80 != 0 {
            3usize << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let mut at = 13 + color_table(header[10]);
    out.extend_from_slice(bytes.get(..at).ok_or_else(damaged)?);
    // The length of the data sub-blocks starting at `from`, terminator included.
    let sub_blocks = |from: usize| -> Option<usize> {
        let mut i = from;
        loop {
            let len = usize::from(*bytes.get(i)?);
            i += 1 + len;
            if len == 0 {
                return (i <= bytes.len()).then_some(i - from);
            }
        }
    };
    loop {
        match bytes.get(at).ok_or_else(damaged)? {
            0x3B => {
                out.push(0x3B);
                return Ok(out);
            }
            0x21 => {
                let label = *bytes.get(at + 1).ok_or_else(damaged)?;
                let body = sub_blocks(at + 2).ok_or_else(damaged)?;
                let end = at + 2 + body;
                let looping = label == 0xFF && bytes.get(at + 3..at + 14) == Some(b"NETSCAPE2.0");
                let keep = matches!(label, 0xF9 | 0x01) || looping;
                if keep {
                    out.extend_from_slice(&bytes[at..end]);
                }
                at = end;
            }
            0x2C => {
                let descriptor = bytes.get(at..at + 10).ok_or_else(damaged)?;
                let start = at;
                at += 10 + color_table(descriptor[9]) + 1; // + the LZW code size
                at += sub_blocks(at).ok_or_else(damaged)?;
                out.extend_from_slice(bytes.get(start..at).ok_or_else(damaged)?);
            }
            _ => return Err(damaged()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blog_test_support::photos::{metadata_found, photo, Photo};

    fn decoded_size(bytes: &[u8]) -> (u32, u32) {
        crate::images::dimensions(bytes).unwrap()
    }

    #[test]
    fn photos_are_turned_upright_resized_and_stripped() {
        // Stored 700×500 with "rotate 90° clockwise": viewed 500×700. (Small: the AV1
        // encoder is slow unoptimised; the benchmark runs phone sizes in release.)
        let upload = photo(Photo {
            width: 700,
            height: 500,
            orientation: 6,
            seed: 7,
        });
        assert_eq!(
            metadata_found(&upload).len(),
            6,
            "the fixture carries metadata"
        );
        let set = process(&upload, "beach-0123456789abcdef").unwrap();
        assert_eq!(set.original, (500, 700));
        assert_eq!(set.size, (500, 700));
        assert_eq!(set.key, "beach-0123456789abcdef/500x700.jpg");
        let keys: Vec<&str> = set.variants.iter().map(|v| v.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "beach-0123456789abcdef/480x672.avif",
                "beach-0123456789abcdef/480x672.webp",
                "beach-0123456789abcdef/500x700.avif",
                "beach-0123456789abcdef/500x700.webp",
                "beach-0123456789abcdef/480x672.jpg",
                "beach-0123456789abcdef/500x700.jpg",
            ]
        );
        for v in &set.variants {
            assert_eq!(metadata_found(&v.bytes), Vec::<&str>::new(), "{}", v.key);
            let as_fallback = format!(
                "/assets/{}",
                v.key.replace(".avif", ".jpg").replace(".webp", ".jpg")
            );
            let named = crate::images::SetKey::parse(&as_fallback).unwrap();
            assert_eq!(decoded_size(&v.bytes), named.size, "{}", v.key);
            assert!(v.bytes.len() < upload.len(), "{}", v.key);
        }
        assert_eq!(&set.variants[0].bytes[4..12], b"ftypavif");
        assert_eq!(set.variants[1].mime, "image/webp");
        // The variants decode to the upright picture.
        let jpeg = image::load_from_memory(&set.variants[5].bytes).unwrap();
        assert_eq!((jpeg.width(), jpeg.height()), (500, 700));
    }

    #[test]
    fn gifs_keep_their_frames_and_lose_comments_and_xmp() {
        let mut frames = Vec::new();
        {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut frames);
            encoder
                .set_repeat(image::codecs::gif::Repeat::Infinite)
                .unwrap();
            for shade in [0u8, 255] {
                let frame = image::RgbaImage::from_pixel(4, 3, image::Rgba([shade, 0, 0, 255]));
                encoder.encode_frame(image::Frame::new(frame)).unwrap();
            }
        }
        // A comment and an XMP application extension before the trailer.
        let trailer = frames.pop().unwrap();
        assert_eq!(trailer, 0x3B);
        let mut gif = frames.clone();
        gif.extend_from_slice(&[0x21, 0xFE, 5]);
        gif.extend_from_slice(b"GPS!!\0");
        gif.extend_from_slice(&[0x21, 0xFF, 11]);
        gif.extend_from_slice(b"XMP DataXMP");
        gif.extend_from_slice(&[9]);
        gif.extend_from_slice(b"<xmpmeta>");
        gif.extend_from_slice(&[0, 0x3B]);
        let stripped = strip_gif(&gif).unwrap();
        frames.push(0x3B);
        assert_eq!(stripped, frames, "only the added blocks go");
        let decoded = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&stripped)).unwrap();
        use image::AnimationDecoder as _;
        assert_eq!(decoded.into_frames().count(), 2);
        assert!(strip_gif(&gif[..gif.len() - 5]).is_err());
    }

    #[test]
    fn transparency_keeps_a_png_fallback() {
        let mut rgba = image::RgbaImage::new(200, 100);
        for (x, _, p) in rgba.enumerate_pixels_mut() {
            *p = image::Rgba([200, 10, 10, if x < 100 { 255 } else { 0 }]);
        }
        let mut png = Vec::new();
        image::DynamicImage::ImageRgba8(rgba)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let set = process(&png, "logo-0123456789abcdef").unwrap();
        assert_eq!(set.key, "logo-0123456789abcdef/200x100.png");
        let fallback = image::load_from_memory(&set.variants.last().unwrap().bytes).unwrap();
        assert!(fallback.color().has_alpha());
    }

    /// A PNG claiming `w`×`h`, with correct chunk checksums but a few bytes of
    /// pixel data only.
    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let chunk = |png: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            let crc = body.iter().fold(!0u32, |mut crc, byte| {
                crc ^= u32::from(*byte);
                for _ in 0..8 {
                    crc = (crc >> 1) ^ (0xEDB8_8320 & (!(crc & 1)).wrapping_add(1));
                }
                crc
            });
            png.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
            png.extend_from_slice(&body);
            png.extend_from_slice(&(!crc).to_be_bytes());
        };
        let mut ihdr = w.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x63, 0x00, 0x00]);
        chunk(&mut png, b"IEND", &[]);
        png
    }

    #[test]
    fn bombs_and_damage_are_refused_before_decoding() {
        match process(&png_header(20_000, 20_000), "bomb-0123456789abcdef") {
            Err(AppError::TooLarge(m)) => assert!(
                m.contains("400.0 megapixels") && m.contains("limit is 50"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        // A header within the limit but no pixel data: damaged.
        assert!(matches!(
            process(&png_header(64, 64), "cut-0123456789abcdef"),
            Err(AppError::UnsupportedMediaType(_))
        ));
        let mut cut = photo(Photo {
            width: 64,
            height: 64,
            orientation: 1,
            seed: 1,
        });
        cut.truncate(cut.len() / 3);
        cut.extend_from_slice(&[0x55; 64]);
        match process(&cut, "cut-0123456789abcdef") {
            Err(AppError::UnsupportedMediaType(m)) => assert!(m.contains("damaged"), "{m}"),
            // zune-jpeg fills a cut scan with grey rather than failing: still a picture.
            Ok(set) => assert_eq!(set.size, (64, 64)),
            Err(e) => panic!("{e:?}"),
        }
    }
}
