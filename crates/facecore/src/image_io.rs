//! Reading photos into RGB pixels, by content rather than by file extension.
//!
//! Scraped folders hold PNG and WebP files named `.jpg`, HTML error pages saved as images, CMYK
//! JPEGs, 16-bit PNGs and truncated downloads. JPEG goes through libjpeg-turbo (the decoder PIL and
//! OpenCV use) because the `image` crate's JPEG decoder yields slightly different pixels, and those
//! move dlib embeddings by 0.07–0.10. Every other format goes through the `image` crate.
//! Like PIL's `convert("RGB")`, alpha is dropped and grayscale is expanded.

use std::path::Path;

use image::metadata::Orientation;
use image::{ImageDecoder, ImageFormat};

use crate::error::ImageError;

/// Images above this many megapixels are refused unless the caller raises the limit.
pub const DEFAULT_MAX_MEGAPIXELS: u64 = 64;

/// An 8-bit RGB image, rows top to bottom, pixels `r, g, b`. Its buffer always holds exactly
/// width × height × 3 bytes (the fields are private so safe code cannot break that: the dlib bridge
/// reads the buffer by that size).
#[derive(Clone, PartialEq, Eq)]
pub struct RgbImage {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl std::fmt::Debug for RgbImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbImage({}×{})", self.width, self.height)
    }
}

impl RgbImage {
    /// Panics when `pixels` does not hold width × height × 3 bytes (a caller's bug); see
    /// [`RgbImage::try_new`] for untrusted sizes.
    pub fn new(width: u32, height: u32, pixels: Vec<u8>) -> RgbImage {
        RgbImage::try_new(width, height, pixels).expect("RGB buffer of width × height × 3 bytes")
    }

    /// `None` when `pixels` does not hold width × height × 3 bytes.
    pub fn try_new(width: u32, height: u32, pixels: Vec<u8>) -> Option<RgbImage> {
        (pixels.len() == width as usize * height as usize * 3).then_some(RgbImage {
            width,
            height,
            pixels,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixels, `r, g, b` row by row.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    /// The same picture in grey (ITU-R BT.601 luma, as OpenCV's and PIL's grey conversion),
    /// still three channels.
    pub fn grey(&self) -> RgbImage {
        let pixels = self
            .pixels
            .chunks_exact(3)
            .flat_map(|p| {
                let y =
                    (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).round() as u8;
                [y, y, y]
            })
            .collect();
        RgbImage::new(self.width, self.height, pixels)
    }

    /// The pixels inside `region` (inclusive corners, already inside the image).
    pub fn crop(&self, region: &facefile::BoundingBox) -> RgbImage {
        let (left, top) = (region.left.max(0) as usize, region.top.max(0) as usize);
        let right = (region.right.max(0) as usize).min(self.width as usize - 1);
        let bottom = (region.bottom.max(0) as usize).min(self.height as usize - 1);
        let (w, h) = (right + 1 - left, bottom + 1 - top);
        let mut pixels = Vec::with_capacity(w * h * 3);
        for y in top..=bottom {
            let row = (y * self.width as usize + left) * 3;
            pixels.extend_from_slice(&self.pixels[row..row + w * 3]);
        }
        RgbImage::new(w as u32, h as u32, pixels)
    }

    /// The picture mirrored left to right.
    pub fn mirrored(&self) -> RgbImage {
        let w = self.width as usize;
        let pixels = self
            .pixels
            .chunks_exact(w * 3)
            .flat_map(|row| row.chunks_exact(3).rev().flatten().copied())
            .collect();
        RgbImage::new(self.width, self.height, pixels)
    }

    /// A box-filtered copy `factor` times smaller in each direction (partial edge blocks are
    /// averaged over the pixels they have). Used to run detection on big photos quickly.
    pub fn shrink(&self, factor: u32) -> RgbImage {
        assert!(factor >= 1);
        if factor == 1 {
            return self.clone();
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let f = factor as usize;
        let (out_w, out_h) = (w.div_ceil(f), h.div_ceil(f));
        let mut sums = vec![0u32; out_w * 3];
        let mut pixels = Vec::with_capacity(out_w * out_h * 3);
        for out_y in 0..out_h {
            sums.iter_mut().for_each(|s| *s = 0);
            let rows = (out_y * f)..((out_y + 1) * f).min(h);
            let row_count = rows.len();
            for y in rows {
                let row = &self.pixels[y * w * 3..(y + 1) * w * 3];
                for (x, px) in row.chunks_exact(3).enumerate() {
                    let sum = &mut sums[(x / f) * 3..(x / f) * 3 + 3];
                    sum[0] += px[0] as u32;
                    sum[1] += px[1] as u32;
                    sum[2] += px[2] as u32;
                }
            }
            for out_x in 0..out_w {
                let cols = ((out_x + 1) * f).min(w) - out_x * f;
                let n = (cols * row_count) as u32;
                for c in 0..3 {
                    pixels.push(((sums[out_x * 3 + c] + n / 2) / n) as u8);
                }
            }
        }
        RgbImage::new(out_w as u32, out_h as u32, pixels)
    }
}

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeOptions {
    /// Refuse images with more pixels than this (decompression bombs).
    pub max_megapixels: u64,
    /// Rotate/flip according to the EXIF orientation tag, as a photo viewer shows the photo.
    /// face_recognition does not (PIL ignores the tag), so parity checks turn this off.
    pub apply_exif_orientation: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_megapixels: DEFAULT_MAX_MEGAPIXELS,
            apply_exif_orientation: true,
        }
    }
}

/// A decoded image and what was learned on the way.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    pub image: RgbImage,
    /// The real format, from the bytes ("JPEG", "PNG", "WebP", …).
    pub format: &'static str,
    /// The EXIF orientation (1–8) that was applied; 1 when none.
    pub orientation: u8,
    /// The file was a CMYK (or YCCK) JPEG, converted to RGB here.
    pub cmyk: bool,
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Jpeg,
    Other(ImageFormat),
}

/// Reads and decodes a file. I/O failures become [`ImageError::Unreadable`].
pub fn decode_file(path: &Path, options: &DecodeOptions) -> Result<DecodedImage, ImageError> {
    let bytes = std::fs::read(path).map_err(|e| ImageError::Unreadable(e.to_string()))?;
    decode_bytes(&bytes, options)
}

/// Identifies an image format from its content, or explains what the bytes are instead.
pub fn sniff(bytes: &[u8]) -> Result<Sniffed, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Sniffed::Jpeg);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = String::from_utf8_lossy(&bytes[8..12]).to_string();
        if ["heic", "heix", "mif1", "msf1", "avif", "avis", "hevc"].contains(&brand.as_str()) {
            return Err(ImageError::Unsupported(format!(
                "HEIC/AVIF (brand {brand}); convert it to JPEG first"
            )));
        }
    }
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => Ok(Sniffed::Jpeg),
        Ok(format) => Ok(Sniffed::Other(format)),
        Err(_) => Err(describe_non_image(bytes)),
    }
}

fn describe_non_image(bytes: &[u8]) -> ImageError {
    let head = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(head)
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    if text.starts_with("<svg") || (text.starts_with("<?xml") && text.contains("<svg")) {
        return ImageError::Unsupported("SVG (a vector drawing); convert it to PNG or JPEG".into());
    }
    let what = if text.starts_with("<!doctype html")
        || text.starts_with("<html")
        || text.contains("<head")
    {
        "an HTML page (a web error page or a link saved instead of the image)".to_string()
    } else if text.starts_with("<?xml") || text.starts_with('<') {
        "XML or markup".to_string()
    } else if text.starts_with('{') || text.starts_with('[') {
        "JSON data".to_string()
    } else if head
        .iter()
        .all(|&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80)
        && std::str::from_utf8(head).is_ok()
    {
        "plain text".to_string()
    } else {
        format!(
            "unrecognised binary data (starts with {})",
            head.iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    ImageError::NotAnImage(what)
}

/// Decodes bytes of any supported format into RGB.
pub fn decode_bytes(bytes: &[u8], options: &DecodeOptions) -> Result<DecodedImage, ImageError> {
    match sniff(bytes)? {
        Sniffed::Jpeg => decode_jpeg(bytes, options),
        Sniffed::Other(format) => decode_other(bytes, format, options),
    }
}

/// Megapixels rounded *up* to two decimals, so an image just over a limit never prints as equal to it.
fn megapixels_text(pixels: u64) -> String {
    let hundredths = pixels.div_ceil(10_000);
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn check_size(width: u64, height: u64, options: &DecodeOptions) -> Result<(), ImageError> {
    let pixels = width * height;
    if pixels > options.max_megapixels * 1_000_000 {
        return Err(ImageError::TooLarge {
            width,
            height,
            megapixels: megapixels_text(pixels),
            limit_megapixels: options.max_megapixels,
        });
    }
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt {
            format: "image".into(),
            message: format!("zero size {width}×{height}"),
        });
    }
    Ok(())
}

fn decode_jpeg(bytes: &[u8], options: &DecodeOptions) -> Result<DecodedImage, ImageError> {
    let corrupt = |e: turbojpeg::Error| classify_jpeg_error(e.to_string());
    let mut decompressor = turbojpeg::Decompressor::new().map_err(corrupt)?;
    let header = decompressor.read_header(bytes).map_err(corrupt)?;
    check_size(header.width as u64, header.height as u64, options)?;
    let (width, height) = (header.width, header.height);
    let cmyk = matches!(
        header.colorspace,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK
    );
    let format = if cmyk {
        turbojpeg::PixelFormat::CMYK
    } else {
        turbojpeg::PixelFormat::RGB
    };
    let channels = format.size();
    let mut out = turbojpeg::Image {
        pixels: vec![0u8; width * height * channels],
        width,
        pitch: width * channels,
        height,
        format,
    };
    decompressor
        .decompress(bytes, out.as_deref_mut())
        .map_err(corrupt)?;
    let pixels = if cmyk {
        cmyk_to_rgb(&out.pixels, has_adobe_marker(bytes))
    } else {
        out.pixels
    };
    let image = RgbImage::new(width as u32, height as u32, pixels);
    let orientation = if options.apply_exif_orientation {
        jpeg_exif_chunk(bytes)
            .and_then(Orientation::from_exif_chunk)
            .unwrap_or(Orientation::NoTransforms)
    } else {
        Orientation::NoTransforms
    };
    Ok(DecodedImage {
        image: orient(image, orientation),
        format: "JPEG",
        orientation: orientation.to_exif(),
        cmyk,
    })
}

/// Encodes RGB pixels as a baseline JPEG with libjpeg-turbo (4:2:0, as cameras and PIL do).
pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let input = turbojpeg::Image {
        pixels: image.pixels.as_slice(),
        width: image.width as usize,
        pitch: image.width as usize * 3,
        height: image.height as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    let error = |e: turbojpeg::Error| ImageError::Corrupt {
        format: "JPEG".into(),
        message: e.to_string(),
    };
    let mut compressor = turbojpeg::Compressor::new().map_err(error)?;
    compressor.set_quality(quality.clamp(1, 100) as i32);
    compressor.set_subsamp(turbojpeg::Subsamp::Sub2x2);
    compressor.compress_to_vec(input).map_err(error)
}

/// A 64-bit difference hash (dHash) of the picture: near-identical photos (resized, recompressed)
/// differ in a few bits, different photos in about half.
pub fn difference_hash(image: &RgbImage) -> u64 {
    const W: usize = 9;
    const H: usize = 8;
    let (width, height) = (image.width as usize, image.height as usize);
    let mut cells = [0f64; W * H];
    for (cy, row) in cells.chunks_exact_mut(W).enumerate() {
        let (y0, y1) = (
            cy * height / H,
            ((cy + 1) * height / H).max(cy * height / H + 1).min(height),
        );
        for (cx, cell) in row.iter_mut().enumerate() {
            let (x0, x1) = (
                cx * width / W,
                ((cx + 1) * width / W).max(cx * width / W + 1).min(width),
            );
            let mut sum = 0f64;
            for y in y0..y1 {
                for x in x0..x1 {
                    let p = &image.pixels[(y * width + x) * 3..(y * width + x) * 3 + 3];
                    sum += 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64;
                }
            }
            *cell = sum / ((y1 - y0) * (x1 - x0)).max(1) as f64;
        }
    }
    let mut hash = 0u64;
    for y in 0..H {
        for x in 0..W - 1 {
            hash = (hash << 1) | (cells[y * W + x] < cells[y * W + x + 1]) as u64;
        }
    }
    hash
}

fn classify_jpeg_error(message: String) -> ImageError {
    let lower = message.to_ascii_lowercase();
    if lower.contains("premature end") || lower.contains("unexpected end") {
        ImageError::Truncated {
            format: "JPEG".into(),
        }
    } else {
        ImageError::Corrupt {
            format: "JPEG".into(),
            message: message.trim_start_matches("TurboJPEG error: ").to_string(),
        }
    }
}

/// Photoshop writes CMYK JPEGs with inverted values and marks them with an Adobe APP14 segment.
fn has_adobe_marker(bytes: &[u8]) -> bool {
    jpeg_segments(bytes).any(|(marker, data)| marker == 0xEE && data.starts_with(b"Adobe"))
}

fn cmyk_to_rgb(cmyk: &[u8], inverted: bool) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let [c, m, y, k] = if inverted {
            [255 - px[0], 255 - px[1], 255 - px[2], 255 - px[3]]
        } else {
            [px[0], px[1], px[2], px[3]]
        };
        let nk = 255 - k as u32;
        for ink in [c, m, y] {
            rgb.push(((255 - ink as u32) * nk / 255) as u8);
        }
    }
    rgb
}

/// The TIFF payload of the first `Exif` APP1 segment.
fn jpeg_exif_chunk(bytes: &[u8]) -> Option<&[u8]> {
    jpeg_segments(bytes)
        .find(|(marker, data)| *marker == 0xE1 && data.starts_with(b"Exif\0\0"))
        .map(|(_, data)| &data[6..])
}

/// Iterates the header segments `(marker, payload)` of a JPEG up to the start of scan.
fn jpeg_segments(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut pos = 2usize;
    std::iter::from_fn(move || {
        while pos + 4 <= bytes.len() {
            if bytes[pos] != 0xFF {
                return None;
            }
            let marker = bytes[pos + 1];
            if marker == 0xFF {
                pos += 1;
                continue;
            }
            if marker == 0xDA || marker == 0xD9 {
                return None;
            }
            let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
            let start = pos + 4;
            let end = (pos + 2 + len).min(bytes.len());
            if len < 2 || start > end {
                return None;
            }
            pos += 2 + len;
            return Some((marker, &bytes[start..end]));
        }
        None
    })
}

fn decode_other(
    bytes: &[u8],
    format: ImageFormat,
    options: &DecodeOptions,
) -> Result<DecodedImage, ImageError> {
    let name = format_name(format);
    let error = |e: image::ImageError| classify_image_error(name, e);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    // Room for the largest allowed image at 16 bits × 4 channels, plus decoder scratch.
    limits.max_alloc = Some(options.max_megapixels * 1_000_000 * 8 + (256 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Unsupported(_) => ImageError::Unsupported(name.to_string()),
        other => error(other),
    })?;
    let (width, height) = decoder.dimensions();
    check_size(width as u64, height as u64, options)?;
    let orientation = if options.apply_exif_orientation {
        decoder.orientation().unwrap_or(Orientation::NoTransforms)
    } else {
        Orientation::NoTransforms
    };
    let dynamic = image::DynamicImage::from_decoder(decoder).map_err(error)?;
    let rgb = dynamic.into_rgb8();
    let (w, h) = rgb.dimensions();
    let image = RgbImage::new(w, h, rgb.into_raw());
    Ok(DecodedImage {
        image: orient(image, orientation),
        format: name,
        orientation: orientation.to_exif(),
        cmyk: false,
    })
}

fn classify_image_error(format: &'static str, e: image::ImageError) -> ImageError {
    let message = e.to_string();
    let lower = message.to_ascii_lowercase();
    let eof = matches!(&e, image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof);
    if eof
        || lower.contains("eof")
        || lower.contains("end of")
        || lower.contains("truncat")
        || lower.contains("no more data")
    {
        ImageError::Truncated {
            format: format.into(),
        }
    } else if let image::ImageError::Limits(_) = e {
        ImageError::DecoderLimit {
            format: format.into(),
            message,
        }
    } else {
        ImageError::Corrupt {
            format: format.into(),
            message,
        }
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Gif => "GIF",
        ImageFormat::WebP => "WebP",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Avif => "AVIF",
        ImageFormat::Ico => "ICO",
        ImageFormat::Pnm => "PNM",
        ImageFormat::Tga => "TGA",
        ImageFormat::Dds => "DDS",
        ImageFormat::Hdr => "HDR",
        ImageFormat::OpenExr => "OpenEXR",
        ImageFormat::Farbfeld => "Farbfeld",
        ImageFormat::Qoi => "QOI",
        _ => "image",
    }
}

fn orient(image: RgbImage, orientation: Orientation) -> RgbImage {
    if orientation == Orientation::NoTransforms {
        return image;
    }
    let buffer = image::RgbImage::from_raw(image.width, image.height, image.pixels)
        .expect("buffer size checked");
    let mut dynamic = image::DynamicImage::ImageRgb8(buffer);
    dynamic.apply_orientation(orientation);
    let rgb = dynamic.into_rgb8();
    let (w, h) = rgb.dimensions();
    RgbImage::new(w, h, rgb.into_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(image: image::DynamicImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn empty_and_text_are_explained() {
        assert_eq!(
            decode_bytes(b"", &DecodeOptions::default()).unwrap_err(),
            ImageError::Empty
        );
        let html = decode_bytes(
            b"<!DOCTYPE html><html><body>403</body></html>",
            &DecodeOptions::default(),
        );
        assert!(
            matches!(html, Err(ImageError::NotAnImage(ref what)) if what.contains("HTML")),
            "{html:?}"
        );
        let text = decode_bytes(b"hello, this is not a photo\n", &DecodeOptions::default());
        assert!(
            matches!(text, Err(ImageError::NotAnImage(ref what)) if what == "plain text"),
            "{text:?}"
        );
    }

    #[test]
    fn png_with_alpha_and_16_bit_gray_become_rgb() {
        let rgba =
            image::RgbaImage::from_fn(5, 4, |x, y| image::Rgba([x as u8 * 10, y as u8 * 20, 7, 0]));
        let decoded = decode_bytes(&png_bytes(rgba.into()), &DecodeOptions::default()).unwrap();
        assert_eq!(
            (decoded.image.width, decoded.image.height, decoded.format),
            (5, 4, "PNG")
        );
        // Alpha is dropped, not composited (PIL's convert("RGB") does the same).
        assert_eq!(&decoded.image.pixels[3 * 6..3 * 6 + 3], &[10, 20, 7]);

        let gray16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(3, 2, |x, _| {
            image::Luma([x as u16 * 30000])
        });
        let decoded = decode_bytes(
            &png_bytes(image::DynamicImage::ImageLuma16(gray16)),
            &DecodeOptions::default(),
        )
        .unwrap();
        let px = &decoded.image.pixels[3..6];
        assert_eq!(px[0], px[1]);
        assert_eq!(px[0], (30000u32 * 255 / 65535 + 1) as u8);
    }

    #[test]
    fn decompression_bomb_is_refused_before_decoding() {
        let big = image::GrayImage::new(3000, 3000);
        let bytes = png_bytes(big.into());
        let options = DecodeOptions {
            max_megapixels: 8,
            ..Default::default()
        };
        let err = decode_bytes(&bytes, &options).unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::TooLarge {
                    width: 3000,
                    height: 3000,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("limit of 8"), "{err}");
    }

    #[test]
    fn truncated_png_is_reported_as_truncated() {
        let img =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8, y as u8, (x * y) as u8]));
        let bytes = png_bytes(img.into());
        let err = decode_bytes(&bytes[..bytes.len() / 2], &DecodeOptions::default()).unwrap_err();
        assert!(matches!(err, ImageError::Truncated { .. }), "{err:?}");
    }

    #[test]
    fn shrink_averages_blocks() {
        let image = RgbImage::new(
            3,
            2,
            vec![
                0, 0, 0, 10, 10, 10, 100, 100, 100, 20, 20, 20, 30, 30, 30, 200, 200, 200,
            ],
        );
        let small = image.shrink(2);
        assert_eq!((small.width, small.height), (2, 1));
        assert_eq!(&small.pixels[..3], &[15, 15, 15]);
        assert_eq!(&small.pixels[3..], &[150, 150, 150]);
    }

    #[test]
    fn jpeg_round_trip_and_difference_hash() {
        let image = RgbImage::new(
            64,
            48,
            (0..64 * 48)
                .flat_map(|i| {
                    let (x, y) = (i % 64, i / 64);
                    [(x * 4) as u8, (y * 5) as u8, ((x + y) * 2) as u8]
                })
                .collect(),
        );
        let jpeg = encode_jpeg(&image, 95).unwrap();
        let back = decode_bytes(&jpeg, &DecodeOptions::default()).unwrap();
        assert_eq!(
            (back.image.width, back.image.height, back.format),
            (64, 48, "JPEG")
        );
        // Recompression moves pixels a little, the hash hardly at all.
        let distance = (difference_hash(&image) ^ difference_hash(&back.image)).count_ones();
        assert!(distance <= 4, "{distance}");
        let flipped = RgbImage::new(
            64,
            48,
            image
                .pixels
                .chunks_exact(3)
                .rev()
                .flatten()
                .copied()
                .collect(),
        );
        assert!((difference_hash(&image) ^ difference_hash(&flipped)).count_ones() > 20);
    }

    /// A JPEG with an EXIF APP1 segment holding only an orientation tag.
    fn jpeg_with_orientation(image: &RgbImage, orientation: u16) -> Vec<u8> {
        let jpeg = encode_jpeg(image, 90).unwrap();
        let mut tiff = b"II*\0".to_vec();
        tiff.extend_from_slice(&8u32.to_le_bytes()); // first IFD right after the header
        tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
        tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
        tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn exif_orientation_is_applied_unless_asked_not_to() {
        // A 40×20 picture, dark on the left, bright on the right.
        let image = RgbImage::new(
            40,
            20,
            (0..40 * 20)
                .flat_map(|i| if i % 40 < 20 { [20u8; 3] } else { [230u8; 3] })
                .collect(),
        );
        let rotated = jpeg_with_orientation(&image, 6); // "rotate 90° clockwise to view"
        let viewed = decode_bytes(&rotated, &DecodeOptions::default()).unwrap();
        assert_eq!(
            (viewed.image.width, viewed.image.height, viewed.orientation),
            (20, 40, 6)
        );
        // After a clockwise turn the left (dark) half is on top.
        let top = viewed.image.pixels[3 * 10];
        let bottom = viewed.image.pixels[3 * (35 * 20 + 10)];
        assert!(top < 100 && bottom > 150, "top {top}, bottom {bottom}");
        let raw = decode_bytes(
            &rotated,
            &DecodeOptions {
                apply_exif_orientation: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            (raw.image.width, raw.image.height, raw.orientation),
            (40, 20, 1)
        );
    }

    #[test]
    fn grayscale_jpeg_becomes_rgb() {
        let gray: Vec<u8> = (0..32 * 16).map(|i| (i % 32 * 8) as u8).collect();
        let input = turbojpeg::Image {
            pixels: gray.as_slice(),
            width: 32,
            pitch: 32,
            height: 16,
            format: turbojpeg::PixelFormat::GRAY,
        };
        let mut compressor = turbojpeg::Compressor::new().unwrap();
        compressor.set_subsamp(turbojpeg::Subsamp::Gray);
        let jpeg = compressor.compress_to_vec(input).unwrap();
        let decoded = decode_bytes(&jpeg, &DecodeOptions::default()).unwrap();
        assert_eq!((decoded.image.width, decoded.image.height), (32, 16));
        assert!(decoded
            .image
            .pixels
            .chunks_exact(3)
            .all(|p| p[0] == p[1] && p[1] == p[2]));
        assert!(decoded.image.pixels.chunks_exact(3).any(|p| p[0] > 200));
    }

    #[test]
    fn cmyk_inverted_white_and_black() {
        // Adobe-inverted CMYK: 255 means no ink.
        assert_eq!(
            cmyk_to_rgb(&[255, 255, 255, 255], true),
            vec![255, 255, 255]
        );
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 0], true), vec![0, 0, 0]);
        assert_eq!(cmyk_to_rgb(&[0, 255, 255, 0], false), vec![255, 0, 0]);
    }
}
