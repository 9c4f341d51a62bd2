//! Making every photo a plain RGB JPEG with the right extension, keeping the original.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use facecore::photo::ImageFacts;
use facecore::{DecodeOptions, RgbImage};

use crate::inspect::extension;

/// What a readable image needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Repair {
    /// Already a JPEG named `.jpg`/`.jpeg`.
    None,
    /// A JPEG under another extension: rename it.
    Rename { to: PathBuf },
    /// Not a plain RGB JPEG (PNG, WebP, GIF, CMYK, …): write a JPEG beside it.
    Convert { to: PathBuf, why: String },
}

/// What `path` needs; `reserved` holds the names other repairs of this run will write, so two files
/// (`p.png` and `p.webp`) never get the same new name.
pub fn plan(path: &Path, facts: &ImageFacts, reserved: &mut HashSet<PathBuf>) -> Repair {
    let is_jpeg_name = matches!(extension(path).as_str(), "jpg" | "jpeg");
    if facts.format == "JPEG" && !facts.cmyk {
        if is_jpeg_name {
            Repair::None
        } else {
            Repair::Rename {
                to: free_name(path, reserved),
            }
        }
    } else {
        let why = if facts.cmyk {
            "CMYK JPEG converted to RGB".to_string()
        } else if facts.format == "GIF" {
            "GIF: first frame kept as JPEG".to_string()
        } else {
            format!("{} converted to JPEG", facts.format)
        };
        Repair::Convert {
            to: free_name(path, reserved),
            why,
        }
    }
}

/// `name.jpg` beside `path`, or `name-2.jpg`, … if that is taken by another file or by another
/// repair of this run; the name is then reserved.
fn free_name(path: &Path, reserved: &mut HashSet<PathBuf>) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "photo".into());
    let parent = path.parent().unwrap_or(Path::new("."));
    let mut candidate = parent.join(format!("{stem}.jpg"));
    let mut n = 2;
    // `symlink_metadata`: a dangling link is a taken name too.
    let taken = |p: &Path| p.symlink_metadata().is_ok();
    while (taken(&candidate) && candidate != path) || reserved.contains(&candidate) {
        candidate = parent.join(format!("{stem}-{n}.jpg"));
        n += 1;
    }
    reserved.insert(candidate.clone());
    candidate
}

/// The pixels to save: a GIF's first frame composed on its canvas with the `gif` crate, as the
/// original script did; any other format decoded (and EXIF-oriented) by facecore.
pub fn pixels(path: &Path, format: &str) -> Result<RgbImage> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if format == "GIF" {
        return gif_first_frame(&bytes)
            .with_context(|| format!("cannot read the first frame of {}", path.display()));
    }
    Ok(facecore::decode_bytes(&bytes, &DecodeOptions::default())
        .with_context(|| format!("cannot decode {}", path.display()))?
        .image)
}

fn gif_first_frame(bytes: &[u8]) -> Result<RgbImage> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(bytes)?;
    let (width, height) = (decoder.width() as usize, decoder.height() as usize);
    let frame = decoder.read_next_frame()?.context("the GIF has no frame")?;
    // Transparent parts of the first frame show white, as a browser on a white page shows them.
    let mut canvas = vec![255u8; width * height * 3];
    for y in 0..frame.height as usize {
        for x in 0..frame.width as usize {
            let (cx, cy) = (frame.left as usize + x, frame.top as usize + y);
            if cx >= width || cy >= height {
                continue;
            }
            let src = &frame.buffer[(y * frame.width as usize + x) * 4..][..4];
            let alpha = src[3] as u32;
            let dst = &mut canvas[(cy * width + cx) * 3..][..3];
            for c in 0..3 {
                dst[c] = ((src[c] as u32 * alpha + 255 * (255 - alpha)) / 255) as u8;
            }
        }
    }
    Ok(RgbImage::new(width as u32, height as u32, canvas))
}
