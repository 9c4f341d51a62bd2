//! SFace (OpenCV Zoo, Apache-2.0), the 2021dec face recogniser, through OpenCV's `FaceRecognizerSF`:
//! the face is aligned from YuNet's five landmarks onto a 112×112 template (`alignCrop`, a similarity
//! transform), then the network gives 128 numbers. They are scaled to unit length here, so that the
//! Euclidean distance the rest of the pipeline uses orders faces exactly as SFace's cosine does
//! (‖a − b‖² = 2 − 2·cos).

use opencv::core::{self, Mat, Ptr};
use opencv::objdetect::FaceRecognizerSF;
use opencv::prelude::*;

use crate::detect::yunet::RawFace;

/// Side of the aligned chip SFace reads.
pub const CHIP_SIZE: i32 = 112;
/// Values in one SFace feature.
pub const DIMENSION: usize = 128;

/// The loaded recogniser. Not shareable between threads.
pub struct SFace {
    recogniser: Ptr<FaceRecognizerSF>,
}

impl SFace {
    pub fn load(onnx: &std::path::Path) -> opencv::Result<SFace> {
        let path = onnx.to_str().ok_or_else(|| {
            opencv::Error::new(core::StsBadArg, "the model path is not valid UTF-8")
        })?;
        Ok(SFace {
            recogniser: FaceRecognizerSF::create(path, "", 0, 0)?,
        })
    }

    /// The aligned 112×112 BGR chip of `face` (landmarks in `bgr`'s pixels).
    pub fn align(&self, bgr: &Mat, face: &RawFace) -> opencv::Result<Mat> {
        let values = face.opencv_row();
        let row = Mat::from_slice(&values)?;
        let mut chip = Mat::default();
        self.recogniser.align_crop(bgr, &row, &mut chip)?;
        Ok(chip)
    }

    /// The chip in grey (three equal channels), as a colour filter or stage light would leave a
    /// face without its colours.
    pub fn grey(chip: &Mat) -> opencv::Result<Mat> {
        let mut grey = Mat::default();
        opencv::imgproc::cvt_color_def(chip, &mut grey, opencv::imgproc::COLOR_BGR2GRAY)?;
        let mut three = Mat::default();
        opencv::imgproc::cvt_color_def(&grey, &mut three, opencv::imgproc::COLOR_GRAY2BGR)?;
        Ok(three)
    }

    /// The chip mirrored left to right. The template the chip is aligned to is symmetric, so this
    /// is the chip the mirrored face would give.
    pub fn mirrored(chip: &Mat) -> opencv::Result<Mat> {
        let mut mirrored = Mat::default();
        core::flip(chip, &mut mirrored, 1)?;
        Ok(mirrored)
    }

    /// The chip as a face about `height` pixels tall gives it: its detail averaged down to that
    /// many pixels, then scaled back up bilinearly, as `alignCrop` scales a small face up.
    pub fn shrunk(chip: &Mat, height: i32) -> opencv::Result<Mat> {
        use opencv::imgproc::{resize, INTER_AREA, INTER_LINEAR};
        let mut small = Mat::default();
        resize(
            chip,
            &mut small,
            core::Size::new(height, height),
            0.0,
            0.0,
            INTER_AREA,
        )?;
        let mut back = Mat::default();
        let full = core::Size::new(CHIP_SIZE, CHIP_SIZE);
        resize(&small, &mut back, full, 0.0, 0.0, INTER_LINEAR)?;
        Ok(back)
    }

    /// The unit-length feature of an aligned chip.
    pub fn feature(&mut self, chip: &Mat) -> opencv::Result<Vec<f32>> {
        let mut feature = Mat::default();
        self.recogniser.feature(chip, &mut feature)?;
        let values = feature.data_typed::<f32>()?;
        if values.len() != DIMENSION {
            return Err(opencv::Error::new(
                core::StsUnmatchedSizes,
                format!("SFace gave {} values, expected {DIMENSION}", values.len()),
            ));
        }
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(opencv::Error::new(
                core::StsError,
                "SFace gave a zero or non-finite feature",
            ));
        }
        Ok(values.iter().map(|v| v / norm).collect())
    }
}
