//! Cut detection: where one shot ends and the next begins, so that a face track never carries one
//! person's name onto another's face across a cut.
//!
//! A fixed threshold on the change of a tiny thumbnail misses cuts between similar close-ups (stage
//! videos are full of them) and fires on camera flashes. Here each frame gets a signature — a
//! 32×18 grey thumbnail and a hue/saturation/brightness histogram — and the change from the previous
//! frame is scored on both (the thumbnail sees structure, the histogram sees colour and lighting).
//! A frame is a cut when its change stands out against the recent ones (several times the running
//! level of change within the shot), or is large outright; a still slideshow thus breaks on every
//! photo change, a panning stage shot does not.

use anyhow::Result;
use opencv::core::{Mat, Scalar, Size, CV_8UC3};
use opencv::imgproc;
use opencv::prelude::*;

/// Thumbnail size (pixels) for the structure part of the signature.
const THUMB: (i32, i32) = (32, 18);
/// Histogram bins: hue, saturation, value.
const BINS: [i32; 3] = [12, 4, 4];
/// A change this large (0–1 scale) is a cut whatever came before.
const CERTAIN_CUT: f64 = 0.45;
/// A change must be at least this large to be a cut at all (noise, compression, small motion).
const MIN_CUT: f64 = 0.12;
/// A change this many times the recent level of change is a cut.
const RELATIVE_CUT: f64 = 4.0;
/// Frames the recent level of change is measured over.
const WINDOW: usize = 12;
/// Frames of a shot needed before its level of change means anything.
const MIN_HISTORY: usize = 3;

/// A frame's signature.
#[derive(Debug, Clone)]
pub struct Signature {
    thumb: Vec<u8>,
    histogram: Vec<f32>,
}

impl Signature {
    pub fn of(frame: &Mat) -> Result<Signature> {
        let small = shrink(frame, Size::new(THUMB.0 * 2, THUMB.1 * 2))?;
        let mut grey = Mat::default();
        imgproc::cvt_color_def(&small, &mut grey, imgproc::COLOR_BGR2GRAY)?;
        let mut thumb = Mat::default();
        imgproc::resize(
            &grey,
            &mut thumb,
            Size::new(THUMB.0, THUMB.1),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        let mut hsv = Mat::default();
        imgproc::cvt_color_def(&small, &mut hsv, imgproc::COLOR_BGR2HSV)?;
        let mut histogram = vec![0f32; (BINS[0] * BINS[1] * BINS[2]) as usize];
        let bytes = if hsv.is_continuous() {
            hsv.data_bytes()?.to_vec()
        } else {
            hsv.try_clone()?.data_bytes()?.to_vec()
        };
        let pixels = (bytes.len() / 3).max(1) as f32;
        for p in bytes.chunks_exact(3) {
            // OpenCV's 8-bit hue runs 0–179.
            let h = (p[0] as i32 * BINS[0] / 180).min(BINS[0] - 1);
            let s = (p[1] as i32 * BINS[1] / 256).min(BINS[1] - 1);
            let v = (p[2] as i32 * BINS[2] / 256).min(BINS[2] - 1);
            histogram[((h * BINS[1] + s) * BINS[2] + v) as usize] += 1.0 / pixels;
        }
        Ok(Signature {
            thumb: thumb.data_bytes()?.to_vec(),
            histogram,
        })
    }

    /// How different two frames look, 0 (same) to 1: the mean of the thumbnail's mean absolute
    /// difference (of 255) and the histograms' total variation distance.
    pub fn change(&self, other: &Signature) -> f64 {
        let thumb: u64 = self
            .thumb
            .iter()
            .zip(&other.thumb)
            .map(|(a, b)| a.abs_diff(*b) as u64)
            .sum();
        let thumb = thumb as f64 / (self.thumb.len().max(1) as f64 * 255.0);
        let histogram: f32 = self
            .histogram
            .iter()
            .zip(&other.histogram)
            .map(|(a, b)| (a - b).abs())
            .sum::<f32>()
            / 2.0;
        // The thumbnail difference rarely exceeds 0.5 even across cuts; scale it to the
        // histogram's range.
        (2.0 * thumb).min(1.0) * 0.5 + histogram as f64 * 0.5
    }
}

/// `frame` shrunk to `size` by averaging the pixels each output pixel covers: OpenCV's
/// `INTER_AREA`, pixel for pixel. Every frame of the video goes through this. When the frame is a
/// whole number of times `size` (1080p, 720p and 4K are), OpenCV adds up each block one pixel at a
/// time (4.7 ms a 1080p frame, 6 % of the labeler's time); summing whole rows first gives the same
/// pixels in a fifth of that. Everything else stays with OpenCV: exactly twice `size`, where it has
/// a fast way of its own (which rounds differently), other sizes (partly covered pixels weighed),
/// and whole multiples its floating-point test does not see as whole (e.g. 49 times).
fn shrink(frame: &Mat, size: Size) -> Result<Mat> {
    let (width, height) = (frame.cols(), frame.rows());
    // OpenCV's own test for a whole scale: 1 / (size / frame) within DBL_EPSILON of an integer.
    let whole = |from: i32, to: i32| {
        let scale = 1.0 / (f64::from(to) / f64::from(from));
        from % to == 0 && (scale - scale.round()).abs() < f64::EPSILON
    };
    let ours = size.width > 0
        && size.height > 0
        && width > 0
        && height > 0
        && whole(width, size.width)
        && whole(height, size.height)
        && (width, height) != (size.width * 2, size.height * 2)
        && frame.typ() == CV_8UC3
        && frame.is_continuous();
    if !ours {
        return opencv_shrink(frame, size);
    }
    let (scale_x, scale_y) = (
        (width / size.width) as usize,
        (height / size.height) as usize,
    );
    let row_bytes = width as usize * 3;
    let pixels = frame.data_bytes()?;
    let mut small =
        Mat::new_rows_cols_with_default(size.height, size.width, CV_8UC3, Scalar::all(0.0))?;
    // OpenCV's arithmetic: an integer sum times a float reciprocal, rounded half to even.
    let reciprocal = 1.0f32 / (scale_x * scale_y) as f32;
    let mut column_sums = vec![0u32; row_bytes];
    for (band, out) in pixels.chunks_exact(row_bytes * scale_y).zip(
        small
            .data_bytes_mut()?
            .chunks_exact_mut(size.width as usize * 3),
    ) {
        column_sums.fill(0);
        for row in band.chunks_exact(row_bytes) {
            for (sum, &value) in column_sums.iter_mut().zip(row) {
                *sum += u32::from(value);
            }
        }
        for (block, out) in column_sums
            .chunks_exact(scale_x * 3)
            .zip(out.chunks_exact_mut(3))
        {
            for (channel, out) in out.iter_mut().enumerate() {
                let sum: u32 = block.iter().skip(channel).step_by(3).sum();
                *out = (sum as f32 * reciprocal).round_ties_even() as u8;
            }
        }
    }
    Ok(small)
}

/// OpenCV's own `INTER_AREA` shrink: what [`shrink`] does where it does not do it itself.
fn opencv_shrink(frame: &Mat, size: Size) -> Result<Mat> {
    let mut small = Mat::default();
    imgproc::resize(frame, &mut small, size, 0.0, 0.0, imgproc::INTER_AREA)?;
    Ok(small)
}

/// Decides cuts frame by frame.
#[derive(Debug, Default)]
pub struct CutDetector {
    previous: Option<Signature>,
    recent: Vec<f64>,
}

impl CutDetector {
    /// Whether `frame` starts a new shot (the first frame does).
    pub fn is_cut(&mut self, signature: Signature) -> bool {
        let Some(previous) = self.previous.replace(signature) else {
            return true;
        };
        let change = previous.change(self.previous.as_ref().expect("just set"));
        let level = if self.recent.is_empty() {
            0.0
        } else {
            self.recent.iter().sum::<f64>() / self.recent.len() as f64
        };
        let stands_out = self.recent.len() >= MIN_HISTORY && change >= RELATIVE_CUT * level;
        let cut = change >= CERTAIN_CUT || (change >= MIN_CUT && stands_out);
        if cut {
            // A new shot has its own level of change.
            self.recent.clear();
        } else {
            self.recent.push(change);
            if self.recent.len() > WINDOW {
                self.recent.remove(0);
            }
        }
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 320×180 frame of one colour with a white 120 px square at `x`.
    fn frame(colour: [f64; 3], x: i32) -> Mat {
        let mut frame = Mat::new_rows_cols_with_default(
            180,
            320,
            CV_8UC3,
            Scalar::new(colour[0], colour[1], colour[2], 0.0),
        )
        .unwrap();
        imgproc::rectangle(
            &mut frame,
            opencv::core::Rect::new(x, 30, 120, 120),
            Scalar::all(255.0),
            -1,
            imgproc::LINE_8,
            0,
        )
        .unwrap();
        frame
    }

    fn cut(cuts: &mut CutDetector, colour: [f64; 3], x: i32) -> bool {
        cuts.is_cut(Signature::of(&frame(colour, x)).unwrap())
    }

    const BLUE: [f64; 3] = [160.0, 90.0, 40.0];
    const ORANGE: [f64; 3] = [30.0, 60.0, 150.0];
    const GREY: [f64; 3] = [80.0, 80.0, 80.0];

    #[test]
    fn motion_is_not_a_cut_but_a_new_scene_is() {
        let mut cuts = CutDetector::default();
        assert!(cut(&mut cuts, BLUE, 0), "the first frame starts a shot");
        for x in (10..=100).step_by(10) {
            assert!(
                !cut(&mut cuts, BLUE, x),
                "x={x}: the square moving is one shot"
            );
        }
        assert!(cut(&mut cuts, ORANGE, 100), "another colour: another scene");
        assert!(!cut(&mut cuts, ORANGE, 110));
    }

    #[test]
    fn a_jump_after_stillness_is_a_cut_but_not_in_fast_action() {
        // A still slideshow: the same photo, then one with the subject elsewhere.
        let mut cuts = CutDetector::default();
        for _ in 0..6 {
            cut(&mut cuts, GREY, 0);
        }
        assert!(cut(&mut cuts, GREY, 200), "a jump after stillness");
        // Fast action: the square jumps 35 px every frame; a jump of 200 px does not stand out.
        let mut cuts = CutDetector::default();
        for x in [0, 35, 70, 105, 140, 175, 140, 105, 70, 35] {
            cut(&mut cuts, GREY, x);
        }
        assert!(!cut(&mut cuts, GREY, 200));
    }

    #[test]
    fn shrinking_gives_opencvs_pixels() {
        let size = Size::new(THUMB.0 * 2, THUMB.1 * 2);
        // Noise, at whole multiples of the thumbnail, summed here: 1080p (30×30 blocks), 4×4
        // blocks (every sum ends in an exact half some of the time: rounding to even counts),
        // 3×3, and 3×2; and at sizes left to OpenCV: exactly twice, not whole.
        for (width, height) in [
            (1920, 1080),
            (256, 144),
            (192, 108),
            (192, 72),
            (128, 72),
            (100, 50),
        ] {
            let mut frame =
                Mat::new_rows_cols_with_default(height, width, CV_8UC3, Scalar::all(0.0)).unwrap();
            opencv::core::randu(&mut frame, &Scalar::all(0.0), &Scalar::all(256.0)).unwrap();
            let ours = shrink(&frame, size).unwrap();
            // OpenCV's own, the reference `shrink` must match pixel for pixel.
            let reference = opencv_shrink(&frame, size).unwrap();
            assert_eq!((ours.cols(), ours.rows(), ours.typ()), (64, 36, CV_8UC3));
            assert_eq!(
                ours.data_bytes().unwrap(),
                reference.data_bytes().unwrap(),
                "{width}×{height}"
            );
        }
        // A zero size is OpenCV's to refuse, not a division by zero here.
        let frame = Mat::new_rows_cols_with_default(108, 192, CV_8UC3, Scalar::all(0.0)).unwrap();
        assert!(shrink(&frame, Size::new(0, 36)).is_err());
    }

    #[test]
    fn signatures_compare_symmetrically() {
        let a = Signature::of(&frame(BLUE, 0)).unwrap();
        let b = Signature::of(&frame(ORANGE, 100)).unwrap();
        assert_eq!(a.change(&a), 0.0);
        assert!((a.change(&b) - b.change(&a)).abs() < 1e-9);
    }
}
