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

/// The colours of a model's people, by class (given by the trainer and kept from model to model:
/// [`facefile::colours`]); grey for Unknown.
#[derive(Debug, Clone)]
pub struct Colours(Vec<[u8; 3]>);

impl Colours {
    pub fn of_model(model: &facefile::format::model::Classifier) -> Colours {
        Colours(model.person_colours())
    }

    #[cfg(test)]
    pub fn of_model_colours(colours: Vec<[u8; 3]>) -> Colours {
        Colours(colours)
    }

    pub fn of(&self, class: Option<usize>) -> [u8; 3] {
        class
            .and_then(|c| self.0.get(c).copied())
            .unwrap_or(facefile::colours::UNKNOWN)
    }
}

/// WCAG relative luminance of an sRGB colour.
fn luminance(rgb: [u8; 3]) -> f64 {
    let linear = |v: u8| {
        let v = v as f64 / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
}

/// WCAG contrast ratio between two colours (1 to 21).
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The colour darkened just enough to be read as text on white (contrast ≥ 4.5:1, WCAG AA).
pub fn on_white(rgb: [u8; 3]) -> [u8; 3] {
    let white = [255, 255, 255];
    let mut factor = 1.0;
    loop {
        let dark = rgb.map(|v| (v as f64 * factor).round() as u8);
        if contrast(dark, white) >= 4.5 || factor <= 0.0 {
            return dark;
        }
        factor -= 0.02;
    }
}

/// Black or white, whichever reads better on `rgb`.
fn ink_on(rgb: [u8; 3]) -> [u8; 3] {
    if contrast(rgb, [0, 0, 0]) >= contrast(rgb, [255, 255, 255]) {
        [0, 0, 0]
    } else {
        [255, 255, 255]
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

/// One face to draw: its box, its label and its colour.
pub struct Labelled<'a> {
    pub bbox: BoundingBox,
    pub label: &'a str,
    pub rgb: [u8; 3],
}

/// A label's rectangle in the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Place {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
}

impl Place {
    fn overlap(&self, other: &Place) -> i64 {
        let w = (self.x + self.w).min(other.x + other.w) - self.x.max(other.x);
        let h = (self.y + self.h).min(other.y + other.h) - self.y.max(other.y);
        if w > 0 && h > 0 {
            w as i64 * h as i64
        } else {
            0
        }
    }
}

/// Text sizes tried, largest first, when labels of a crowded frame do not fit apart.
const SHRINK: [f32; 3] = [1.0, 0.8, 0.62];

impl Painter {
    pub fn new(frame_height: u32) -> Painter {
        Painter {
            text_px: (frame_height as f32 / 28.0).clamp(14.0, 48.0),
            thickness: (frame_height as i32 / 240).max(2),
            cache: HashMap::new(),
        }
    }

    fn mask(&mut self, text: &str, shrink: usize) -> &TextMask {
        let px = (self.text_px * SHRINK[shrink]).max(10.0);
        self.cache
            .entry(format!("{shrink}\u{0}{text}"))
            .or_insert_with(|| rasterise(text, px))
    }

    /// One box and its label.
    #[cfg(test)]
    pub fn face(
        &mut self,
        frame: &mut Mat,
        bbox: &BoundingBox,
        label: &str,
        rgb: [u8; 3],
    ) -> Result<()> {
        self.faces(
            frame,
            &[Labelled {
                bbox: *bbox,
                label,
                rgb,
            }],
        )
    }

    /// Every face of a frame: boxes first, then labels placed so that none covers another and all
    /// stay inside the frame. A label goes above its box, else below it, else inside its top,
    /// else as near as it fits; in a crowd the text gets smaller before labels may touch.
    pub fn faces(&mut self, frame: &mut Mat, faces: &[Labelled]) -> Result<()> {
        let (width, height) = (frame.cols(), frame.rows());
        for face in faces {
            let b = clipped(&face.bbox, width, height);
            imgproc::rectangle(
                frame,
                Rect::new(
                    b.left,
                    b.top,
                    (b.right - b.left).max(1),
                    (b.bottom - b.top).max(1),
                ),
                bgr(face.rgb),
                self.thickness,
                imgproc::LINE_8,
                0,
            )?;
        }
        for (i, shrink, place) in self.layout(faces, width, height) {
            let face = &faces[i];
            imgproc::rectangle(
                frame,
                Rect::new(place.x, place.y, place.w, place.h),
                bgr(face.rgb),
                imgproc::FILLED,
                imgproc::LINE_8,
                0,
            )?;
            let mask = self.mask(face.label, shrink);
            blend_mask(
                frame,
                mask,
                place.x + LABEL_PAD,
                place.y + LABEL_PAD,
                place,
                ink_on(face.rgb),
            )?;
        }
        Ok(())
    }

    /// Where each label goes (face index, text size, rectangle).
    fn layout(
        &mut self,
        faces: &[Labelled],
        width: i32,
        height: i32,
    ) -> Vec<(usize, usize, Place)> {
        // Top to bottom, left to right: labels of the upper faces take the space above them.
        let mut order: Vec<usize> = (0..faces.len()).collect();
        order.sort_by_key(|&i| (faces[i].bbox.top, faces[i].bbox.left));
        let mut placed: Vec<Place> = Vec::new();
        let mut drawn: Vec<(usize, usize, Place)> = Vec::new();
        for &i in &order {
            let face = &faces[i];
            let mut best: Option<(i64, usize, Place)> = None;
            for shrink in 0..SHRINK.len() {
                let size = self.label_size(face.label, shrink);
                for place in candidates(
                    &clipped(&face.bbox, width, height),
                    size,
                    width,
                    height,
                    self.thickness,
                ) {
                    let overlap: i64 = placed.iter().map(|p| p.overlap(&place)).sum();
                    if best.is_none_or(|(o, _, _)| overlap < o) {
                        best = Some((overlap, shrink, place));
                    }
                    if overlap == 0 {
                        break;
                    }
                }
                if best.is_some_and(|(o, _, _)| o == 0) {
                    break;
                }
            }
            let (_, shrink, place) = best.expect("a place is always found");
            placed.push(place);
            drawn.push((i, shrink, place));
        }
        drawn
    }

    fn label_size(&mut self, label: &str, shrink: usize) -> (i32, i32) {
        let mask = self.mask(label, shrink);
        (
            mask.width as i32 + 2 * LABEL_PAD,
            mask.height as i32 + 2 * LABEL_PAD,
        )
    }
}

const LABEL_PAD: i32 = 4;

fn bgr(rgb: [u8; 3]) -> Scalar {
    Scalar::new(rgb[2] as f64, rgb[1] as f64, rgb[0] as f64, 0.0)
}

fn clipped(bbox: &BoundingBox, width: i32, height: i32) -> BoundingBox {
    BoundingBox::new(
        bbox.left.clamp(0, width - 1),
        bbox.top.clamp(0, height - 1),
        bbox.right.clamp(0, width - 1),
        bbox.bottom.clamp(0, height - 1),
    )
}

/// Where a label of `size` may go for a box, best first, each inside the frame (a label wider or
/// taller than the frame is cut to it): above, below, inside the top, then stepping away
/// further above and below.
fn candidates(
    b: &BoundingBox,
    size: (i32, i32),
    width: i32,
    height: i32,
    thickness: i32,
) -> Vec<Place> {
    let (w, h) = (size.0.min(width), size.1.min(height));
    let x = b.left.min(width - w).max(0);
    let inside = |y: i32| Place {
        x,
        y: y.clamp(0, height - h),
        w,
        h,
    };
    let mut out = vec![];
    if b.top - h >= 0 {
        out.push(inside(b.top - h));
    }
    if b.bottom + h < height {
        out.push(inside(b.bottom + 1));
    }
    out.push(inside(b.top + thickness));
    for step in 1..=8 {
        out.push(inside(b.top - h - step * h));
        out.push(inside(b.bottom + 1 + step * h));
    }
    out
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

/// Blends the text into the frame, inside `within` (its label) and the frame.
fn blend_mask(
    frame: &mut Mat,
    mask: &TextMask,
    x0: i32,
    y0: i32,
    within: Place,
    ink: [u8; 3],
) -> Result<()> {
    let width = frame.cols().min(within.x + within.w);
    let height = frame.rows().min(within.y + within.h);
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
                .face(&mut frame, &bbox, "Chaeyoung 97%", RED)
                .unwrap();
            // Something of the label's colour is drawn, and the frame size is unchanged.
            let mut drawn = 0;
            for y in 0..360 {
                for x in 0..640 {
                    if pixel(&frame, x, y) == RED {
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

    const RED: [u8; 3] = [230, 25, 75];

    #[test]
    fn every_colour_reads_on_white_and_under_its_ink() {
        for colour in facefile::colours::PALETTE
            .into_iter()
            .chain([facefile::colours::UNKNOWN])
        {
            let text = on_white(colour);
            assert!(
                contrast(text, [255, 255, 255]) >= 4.5,
                "{colour:?}: {text:?}"
            );
            assert!(contrast(ink_on(colour), colour) >= 4.5, "{colour:?}");
        }
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 0.01);
        let colours = Colours(vec![RED]);
        assert_eq!(colours.of(Some(0)), RED);
        assert_eq!(colours.of(None), facefile::colours::UNKNOWN);
    }

    #[test]
    fn labels_of_a_crowd_never_overlap_and_stay_inside() {
        let mut painter = Painter::new(360);
        // A row of 12 small faces, 40 px apart: labels wider than the gaps.
        let boxes: Vec<BoundingBox> = (0..12)
            .map(|i| BoundingBox::new(10 + i * 52, 150, 40 + i * 52, 180))
            .collect();
        let names: Vec<String> = (0..12).map(|i| format!("Member {i} 88%")).collect();
        let faces: Vec<Labelled> = boxes
            .iter()
            .zip(&names)
            .map(|(b, n)| Labelled {
                bbox: *b,
                label: n,
                rgb: RED,
            })
            .collect();
        let placed = painter.layout(&faces, 640, 360);
        assert_eq!(placed.len(), 12);
        for (i, (_, _, a)) in placed.iter().enumerate() {
            assert!(
                a.x >= 0 && a.y >= 0 && a.x + a.w <= 640 && a.y + a.h <= 360,
                "{a:?}"
            );
            for (_, _, b) in &placed[i + 1..] {
                assert_eq!(a.overlap(b), 0, "{a:?} {b:?}");
            }
        }
        // A lone face keeps the full size, above its box.
        let lone = painter.layout(&faces[..1], 640, 360);
        assert_eq!(lone[0].1, 0);
        assert!(lone[0].2.y + lone[0].2.h <= 150);
    }
}
