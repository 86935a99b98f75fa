//! Photo-like test images, made here rather than shipped: smooth light, texture at
//! several scales and per-pixel sensor noise, encoded the way phones do (JPEG at
//! quality 92), with the metadata a phone writes: an EXIF block with the camera's
//! model and serial number, an orientation, a GPS position, and an XMP packet.

/// The serial number written into every test photo's EXIF: found in no served file.
pub const SERIAL: &str = "SN-TEST-424242";

/// Options for [`photo`].
#[derive(Debug, Clone, Copy)]
pub struct Photo {
    /// Stored width and height (before orientation).
    pub width: u32,
    pub height: u32,
    /// EXIF orientation (1–8), 6 meaning "rotate 90° clockwise to view".
    pub orientation: u16,
    /// Seed of the texture and noise.
    pub seed: u64,
}

/// A JPEG with EXIF (model, serial, orientation, GPS) and XMP.
pub fn photo(p: Photo) -> Vec<u8> {
    let pixels = pixels(p.width, p.height, p.seed);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92)
        .encode(&pixels, p.width, p.height, image::ExtendedColorType::Rgb8)
        .unwrap();
    with_metadata(&jpeg, p.orientation)
}

/// RGB pixels of a landscape-ish scene.
pub fn pixels(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Value noise lattices at three scales.
    let lattice = |cells: u32, rand: &mut dyn FnMut() -> u64| -> (u32, Vec<f32>) {
        let n = (cells + 2) * (cells + 2);
        (
            cells,
            (0..n).map(|_| (rand() % 1000) as f32 / 1000.0).collect(),
        )
    };
    let layers: Vec<(u32, Vec<f32>)> = [6, 40, 200]
        .into_iter()
        .map(|c| lattice(c, &mut rand))
        .collect();
    let sample = |(cells, values): &(u32, Vec<f32>), x: f32, y: f32| -> f32 {
        let (fx, fy) = (x * *cells as f32, y * *cells as f32);
        let (ix, iy) = (fx as u32, fy as u32);
        let (tx, ty) = (fx - ix as f32, fy - iy as f32);
        let at = |i: u32, j: u32| values[(j * (cells + 2) + i) as usize];
        let top = at(ix, iy) * (1.0 - tx) + at(ix + 1, iy) * tx;
        let bottom = at(ix, iy + 1) * (1.0 - tx) + at(ix + 1, iy + 1) * tx;
        top * (1.0 - ty) + bottom * ty
    };
    let mut out = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        let v = y as f32 / height as f32;
        for x in 0..width {
            let u = x as f32 / width as f32;
            let shape = sample(&layers[0], u, v);
            let detail = sample(&layers[1], u, v) * 0.6 + sample(&layers[2], u, v) * 0.4;
            let ground = v > 0.45 + shape * 0.2;
            let noise = (rand() % 17) as f32 - 8.0;
            let (r, g, b) = if ground {
                let l = 60.0 + 120.0 * detail;
                (l * 0.8, l * 0.9 + 20.0 * shape, l * 0.5)
            } else {
                let l = 150.0 + 80.0 * (1.0 - v) + 25.0 * shape;
                (l * 0.7, l * 0.85, l.min(255.0))
            };
            for c in [r, g, b] {
                out.push((c + noise).clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

/// `jpeg` with an EXIF APP1 (IFD0: model, serial, orientation; a GPS IFD) and an XMP
/// APP1 after its start-of-image marker.
pub fn with_metadata(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut out = jpeg[..2].to_vec();
    app1(&mut out, &exif(orientation));
    let xmp = format!(
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" exif:GPSLatitude=\"51,30.44N\" exif:GPSLongitude=\"0,7.65W\" exif:BodySerialNumber=\"{SERIAL}\"/></rdf:RDF></x:xmpmeta>"
    );
    app1(&mut out, xmp.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn app1(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
}

/// A little-endian TIFF structure: IFD0 with Model (2), Orientation (3), the
/// serial as BodySerialNumber (2, also in IFD0 for brevity) and a GPS IFD pointer;
/// the GPS IFD with latitude and longitude.
fn exif(orientation: u16) -> Vec<u8> {
    let model = b"TestPhone 15\0";
    let serial = format!("{SERIAL}\0");
    // Layout: header 8, IFD0 (2 + 4×12 + 4 = 54) at 8, GPS IFD (2 + 4×12 + 4) at 62,
    // then data at 116.
    let ifd0 = 8u32;
    let gps = ifd0 + 54;
    let mut data_at = gps + 54;
    let mut data = Vec::new();
    let mut place = |bytes: &[u8], data: &mut Vec<u8>| -> u32 {
        let at = data_at;
        data.extend_from_slice(bytes);
        data_at += bytes.len() as u32;
        at
    };
    let model_at = place(model, &mut data);
    let serial_at = place(serial.as_bytes(), &mut data);
    let rational = |parts: [(u32, u32); 3]| -> Vec<u8> {
        parts
            .iter()
            .flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()].concat())
            .collect()
    };
    let lat_at = place(&rational([(51, 1), (30, 1), (2642, 100)]), &mut data);
    let lon_at = place(&rational([(0, 1), (7, 1), (3900, 100)]), &mut data);
    let entry = |tag: u16, kind: u16, count: u32, value: u32| -> Vec<u8> {
        [
            &tag.to_le_bytes()[..],
            &kind.to_le_bytes(),
            &count.to_le_bytes(),
            &value.to_le_bytes(),
        ]
        .concat()
    };
    let mut tiff = b"Exif\0\0II*\0".to_vec();
    tiff.extend_from_slice(&ifd0.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend(entry(0x0110, 2, model.len() as u32, model_at));
    tiff.extend(entry(0x0112, 3, 1, u32::from(orientation)));
    tiff.extend(entry(0x8825, 4, 1, gps));
    tiff.extend(entry(0xA431, 2, serial.len() as u32, serial_at));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend(entry(0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0")));
    tiff.extend(entry(0x0002, 5, 3, lat_at));
    tiff.extend(entry(0x0003, 2, 2, u32::from_le_bytes(*b"W\0\0\0")));
    tiff.extend(entry(0x0004, 5, 3, lon_at));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend(data);
    tiff
}

/// What in `bytes` betrays metadata: an EXIF or XMP block, or the test serial.
pub fn metadata_found(bytes: &[u8]) -> Vec<&'static str> {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    let mut found = Vec::new();
    for (what, needle) in [
        ("EXIF block", &b"Exif\0\0"[..]),
        ("EXIF box", b"Exif"),
        ("XMP packet", b"http://ns.adobe.com/xap"),
        ("XMP metadata", b"xmpmeta"),
        ("serial number", SERIAL.as_bytes()),
        ("TIFF header", b"II*\0"),
    ] {
        if has(needle) {
            found.push(what);
        }
    }
    found
}
