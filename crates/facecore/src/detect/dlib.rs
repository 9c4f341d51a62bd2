//! dlib's detectors: HOG (default for `--embedder dlib`) or CNN (MMOD), with an upsample setting
//! and an adaptive strategy that keeps big photos fast without losing small faces. With upsample 1
//! on the full image, boxes are face_recognition's exactly.

use dlib_face_recognition::{FaceDetectorCnn, FaceDetectorTrait, ImageMatrix, Rectangle};
use facefile::settings::Upsample;
use facefile::{BoundingBox, DetectorKind};

use crate::dlib_bridge::{self, HogDetector};
use crate::error::ModelError;
use crate::image_io::RgbImage;
use crate::models::{ModelDir, ModelFile};
use crate::picture::to_matrix;

/// Long side of the working copy used by [`Upsample::Auto`]'s first pass.
pub const AUTO_WORKING_SIDE: u32 = 1024;
/// Photos whose long side is at most this are upsampled once by [`Upsample::Auto`].
pub const AUTO_SMALL_SIDE: u32 = 640;

/// A dlib detection: the box and the detector's score (HOG's SVM margin; 1.0 for the CNN, whose
/// score the crate does not report).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DlibDetection {
    pub bbox: BoundingBox,
    pub score: f32,
}

/// dlib's detectors. Not `Sync`: each worker thread owns one.
pub struct DlibDetector {
    hog: HogDetector,
    cnn: Option<FaceDetectorCnn>,
}

impl DlibDetector {
    /// Loads the HOG detector, and the CNN model when `kind` asks for it.
    pub fn load(models: &ModelDir, kind: DetectorKind) -> Result<DlibDetector, ModelError> {
        let cnn = match kind {
            DetectorKind::Cnn => {
                let path = models.verified(ModelFile::DlibCnnDetector)?;
                Some(
                    FaceDetectorCnn::open(&path)
                        .map_err(|message| ModelError::Load { path, message })?,
                )
            }
            _ => None,
        };
        Ok(DlibDetector {
            hog: HogDetector::new(),
            cnn,
        })
    }

    /// Detects faces on `image` (`matrix` is the same pixels in dlib's form), clipped the way
    /// face_recognition clips them, largest first.
    pub fn detect(
        &mut self,
        image: &RgbImage,
        matrix: &ImageMatrix,
        upsample: Upsample,
    ) -> Vec<DlibDetection> {
        let mut found = match upsample {
            Upsample::Times(times) => self.run(matrix, times),
            Upsample::Auto => self.detect_adaptive(image, matrix),
        };
        for detection in &mut found {
            detection.bbox = detection
                .bbox
                .clip_like_face_recognition(image.width(), image.height());
        }
        found.retain(|d| d.bbox.width() > 1 && d.bbox.height() > 1);
        found.sort_by_key(|d| std::cmp::Reverse(d.bbox.area()));
        found
    }

    fn detect_adaptive(&mut self, image: &RgbImage, matrix: &ImageMatrix) -> Vec<DlibDetection> {
        let long_side = image.width().max(image.height());
        if long_side <= AUTO_SMALL_SIDE {
            return self.run(matrix, 1);
        }
        let shrink = long_side.div_ceil(AUTO_WORKING_SIDE);
        if shrink > 1 {
            let small = image.shrink(shrink);
            let found: Vec<DlibDetection> = self
                .run(&to_matrix(&small), 0)
                .into_iter()
                .map(|d| DlibDetection {
                    bbox: d.bbox.scale_up(shrink),
                    ..d
                })
                .collect();
            if !found.is_empty() {
                return found;
            }
            // Nothing at the working size: look at full resolution, as the original method did.
            return self.run(matrix, 0);
        }
        let found = self.run(matrix, 0);
        if !found.is_empty() {
            return found;
        }
        self.run(matrix, 1)
    }

    fn run(&mut self, matrix: &ImageMatrix, upsample: u32) -> Vec<DlibDetection> {
        match &self.cnn {
            Some(cnn) => {
                let input = if upsample > 0 {
                    dlib_bridge::pyramid_up(matrix, upsample)
                } else {
                    matrix.clone()
                };
                cnn.face_locations(&input)
                    .iter()
                    .map(|rect| {
                        let rect = if upsample > 0 {
                            dlib_bridge::rect_down(rect, upsample)
                        } else {
                            *rect
                        };
                        DlibDetection {
                            bbox: rect_to_box(&rect),
                            score: 1.0,
                        }
                    })
                    .collect()
            }
            None => self
                .hog
                .detect(matrix, upsample)
                .into_iter()
                .map(|d| DlibDetection {
                    bbox: rect_to_box(&d.rect),
                    score: d.score as f32,
                })
                .collect(),
        }
    }
}

fn rect_to_box(rect: &Rectangle) -> BoundingBox {
    BoundingBox::new(
        rect.left as i32,
        rect.top as i32,
        rect.right as i32,
        rect.bottom as i32,
    )
}

/// How much to trust a HOG detection, 0–1, from its SVM margin: 0 (the detector's own threshold)
/// is a coin toss, a margin of 1 or more is a clear face.
pub fn hog_confidence(score: f32) -> f32 {
    (0.5 + score / 2.0).clamp(0.05, 1.0)
}
