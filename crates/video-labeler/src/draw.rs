//! Boxes and names on frames: one stable, distinct colour per person, legible text on it, labels
//! kept inside the frame at the edges. Text is rasterised with ab_glyph (per-character font
//! fallback), since OpenCV's Hershey fonts cannot write Hangul.

use std::collections::HashMap;

use ab_glyph::{Font, PxScale, ScaleFont};
use anyhow::Result;
use facefile::BoundingBox;
use opencv::core::{Mat, Rect, Scalar};
use opencv::imgproc;
use opencv::prelude::*;

/// Distinct colours (RGB), assigned to people in the model's order, so a person keeps a colour.
const PALETTE: [[u8; 3]; 12] = [
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
    [210, 245, 60],
    [250, 190, 212],
    [0, 128, 128],
    [170, 110, 40],
];
const UNKNOWN: [u8; 3] = [160, 160, 160];

pub fn colour_of(class: Option<usize>) -> [u8; 3] {
    match class {
        Some(c) if c < PALETTE.len() => PALETTE[c],
        // Beyond the palette: a colour from the index, bright enough for dark text.
        Some(c) => {
            let h = (c as u32).wrapping_mul(2_654_435_761);
            [
                128 + (h & 0x7f) as u8,
                128 + ((h >> 8) & 0x7f) as u8,
                128 + ((h >> 16) & 0x7f) as u8,
            ]
        }
        None => UNKNOWN,
    }
}

/// A rasterised text: coverage 0–255, row-major.
struct TextMask {
    width: usize,
    height: usize,
    coverage: Vec<u8>,
}

/// Draws labelled boxes; caches rasterised names (the same few names repeat every frame).
pub struct Painter {
    text_px: f32,
    thickness: i32,
    cache: HashMap<String, TextMask>,
}

impl Painter {
    pub fn new(frame_height: u32) -> Painter {
        Painter {
            text_px: (frame_height as f32 / 28.0).clamp(14.0, 48.0),
            thickness: (frame_height as i32 / 240).max(2),
            cache: HashMap::new(),
        }
    }

    fn mask(&mut self, text: &str) -> &TextMask {
        let px = self.text_px;
        self.cache
            .entry(text.to_string())
            .or_insert_with(|| rasterise(text, px))
    }

    /// A box and its label.
    pub fn face(
        &mut self,
        frame: &mut Mat,
        bbox: &BoundingBox,
        label: &str,
        rgb: [u8; 3],
    ) -> Result<()> {
        let (width, height) = (frame.cols(), frame.rows());
        let colour = Scalar::new(rgb[2] as f64, rgb[1] as f64, rgb[0] as f64, 0.0);
        let left = bbox.left.clamp(0, width - 1);
        let top = bbox.top.clamp(0, height - 1);
        let right = bbox.right.clamp(0, width - 1);
        let bottom = bbox.bottom.clamp(0, height - 1);
        imgproc::rectangle(
            frame,
            Rect::new(left, top, (right - left).max(1), (bottom - top).max(1)),
            colour,
            self.thickness,
            imgproc::LINE_8,
            0,
        )?;
        let thickness = self.thickness;
        let mask = self.mask(label);
        let pad = 4;
        let (label_w, label_h) = (mask.width as i32 + 2 * pad, mask.height as i32 + 2 * pad);
        // Above the box if there is room, else inside its top; always inside the frame.
        let mut y = top - label_h;
        if y < 0 {
            y = (top + thickness).min(height - label_h).max(0);
        }
        let x = left.min(width - label_w).max(0);
        let (label_w, label_h) = (label_w.min(width - x), label_h.min(height - y));
        imgproc::rectangle(
            frame,
            Rect::new(x, y, label_w, label_h),
            colour,
            imgproc::FILLED,
            imgproc::LINE_8,
            0,
        )?;
        let luminance = 0.299 * rgb[0] as f32 + 0.587 * rgb[1] as f32 + 0.114 * rgb[2] as f32;
        let ink: [u8; 3] = if luminance > 140.0 {
            [0, 0, 0]
        } else {
            [255, 255, 255]
        };
        blend_mask(frame, mask, x + pad, y + pad, ink)?;
        Ok(())
    }
}

fn rasterise(text: &str, px: f32) -> TextMask {
    let scale = PxScale::from(px);
    let fallback = fonts::installed().first();
    let glyph_font = |c: char| fonts::for_char(c).or(fallback);
    let ascent = fallback
        .map(|f| f.font.as_scaled(scale).ascent())
        .unwrap_or(px * 0.8);
    let descent = fallback
        .map(|f| f.font.as_scaled(scale).descent())
        .unwrap_or(-px * 0.2);
    let height = (ascent - descent).ceil() as usize + 1;
    let mut pen = 0.0f32;
    let mut pieces = Vec::new();
    for c in text.chars() {
        let Some(font) = glyph_font(c) else { continue };
        let scaled = font.font.as_scaled(scale);
        let id = font.font.glyph_id(c);
        let advance = scaled.h_advance(id);
        pieces.push((
            font,
            id.with_scale_and_position(scale, ab_glyph::point(pen, ascent)),
        ));
        pen += advance;
    }
    let width = pen.ceil() as usize + 1;
    let mut coverage = vec![0u8; width * height];
    for (font, glyph) in pieces {
        if let Some(outline) = font.font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, c| {
                let x = bounds.min.x as i32 + gx as i32;
                let y = bounds.min.y as i32 + gy as i32;
                if x >= 0 && y >= 0 && (x as usize) < width && (y as usize) < height {
                    let cell = &mut coverage[y as usize * width + x as usize];
                    *cell = (*cell).max((c * 255.0) as u8);
                }
            });
        }
    }
    TextMask {
        width,
        height,
        coverage,
    }
}

fn blend_mask(frame: &mut Mat, mask: &TextMask, x0: i32, y0: i32, ink: [u8; 3]) -> Result<()> {
    let (width, height) = (frame.cols(), frame.rows());
    let step = *frame.mat_step().first().expect("2-D frame");
    let data = frame.data_bytes_mut()?;
    for my in 0..mask.height as i32 {
        let y = y0 + my;
        if y < 0 || y >= height {
            continue;
        }
        for mx in 0..mask.width as i32 {
            let x = x0 + mx;
            if x < 0 || x >= width {
                continue;
            }
            let a = mask.coverage[my as usize * mask.width + mx as usize] as u32;
            if a == 0 {
                continue;
            }
            let offset = y as usize * step + x as usize * 3;
            // Frames are BGR.
            for (channel, value) in [ink[2], ink[1], ink[0]].into_iter().enumerate() {
                let dst = &mut data[offset + channel];
                *dst = ((*dst as u32 * (255 - a) + value as u32 * a) / 255) as u8;
            }
        }
    }
    Ok(())
}

/// Upper-left pixel helper for tests: the BGR value at (x, y).
#[cfg(test)]
fn pixel(frame: &Mat, x: i32, y: i32) -> [u8; 3] {
    let v = frame.at_2d::<opencv::core::Vec3b>(y, x).unwrap();
    [v[2], v[1], v[0]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::CV_8UC3;

    #[test]
    fn labels_stay_inside_the_frame_at_every_edge() {
        let mut painter = Painter::new(360);
        for bbox in [
            BoundingBox::new(-30, -20, 60, 70),
            BoundingBox::new(600, 300, 700, 400),
            BoundingBox::new(300, 0, 380, 80),
        ] {
            let mut frame =
                Mat::new_rows_cols_with_default(360, 640, CV_8UC3, Scalar::all(0.0)).unwrap();
            painter
                .face(&mut frame, &bbox, "Chaeyoung 97%", PALETTE[0])
                .unwrap();
            // Something of the label's colour is drawn, and the frame size is unchanged.
            let mut drawn = 0;
            for y in 0..360 {
                for x in 0..640 {
                    if pixel(&frame, x, y) == PALETTE[0] {
                        drawn += 1;
                    }
                }
            }
            assert!(drawn > 200, "{bbox:?}: {drawn} pixels drawn");
            assert_eq!((frame.cols(), frame.rows()), (640, 360));
        }
    }

    #[test]
    fn hangul_names_are_rasterised() {
        let mask = rasterise("나연", 24.0);
        let inked = mask.coverage.iter().filter(|&&c| c > 128).count();
        assert!(inked > 40, "{inked} inked pixels");
    }

    #[test]
    fn colours_are_stable_and_distinct() {
        assert_eq!(colour_of(Some(3)), colour_of(Some(3)));
        let colours: std::collections::HashSet<_> = (0..12).map(|c| colour_of(Some(c))).collect();
        assert_eq!(colours.len(), 12);
        assert_ne!(colour_of(None), colour_of(Some(0)));
    }
}
