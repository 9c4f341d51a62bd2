//! Face detection: dlib's HOG detector (default) or its CNN (MMOD) detector, with an upsample
//! setting, and an adaptive strategy that keeps big photos fast without losing small faces.

use dlib_face_recognition::{FaceDetectorCnn, FaceDetectorTrait, ImageMatrix};
use serde::{Deserialize, Serialize};

use crate::dlib_bridge::{self, HogDetector};
use crate::error::ModelError;
use crate::geometry::BoundingBox;
use crate::image_io::RgbImage;
use crate::models::{ModelDir, ModelKind};

/// Which dlib detector to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DetectorKind {
    /// HOG + linear SVM: fast on a CPU, frontal faces of at least ~80 px (~40 px upsampled once).
    #[default]
    Hog,
    /// dlib's CNN (MMOD): finds turned and partly hidden faces too, ~10–50× slower on a CPU.
    Cnn,
}

/// How many times to upsample (×2 each) before detecting; each doubling halves the smallest face
/// found and roughly quadruples the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Upsample {
    /// Adapt to the photo: detect on a copy of at most [`AUTO_WORKING_SIDE`] px (big photos are
    /// shrunk), upsampling small photos once; if nothing is found, look again at full resolution
    /// (upsampling once when the photo is not large).
    #[default]
    Auto,
    /// Always this many times on the full image (1 is face_recognition's default).
    Times(u32),
}

/// Long side of the working copy used by [`Upsample::Auto`]'s first pass.
pub const AUTO_WORKING_SIDE: u32 = 1024;
/// Photos whose long side is at most this are upsampled once by [`Upsample::Auto`].
pub const AUTO_SMALL_SIDE: u32 = 640;

/// Detection settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DetectionSettings {
    pub detector: DetectorKind,
    pub upsample: Upsample,
}

/// A face found by the detector, in full-image pixels, clipped like face_recognition clips.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub bbox: BoundingBox,
    /// HOG's SVM score (0 is its threshold), or 1.0 for the CNN detector, which reports none here.
    pub score: f32,
}

/// dlib's detectors. Not `Sync`: each worker thread owns one.
pub struct Detector {
    hog: HogDetector,
    cnn: Option<FaceDetectorCnn>,
}

impl Detector {
    /// Loads the HOG detector, and the CNN model when `kind` asks for it.
    pub fn load(models: &ModelDir, kind: DetectorKind) -> Result<Detector, ModelError> {
        let cnn = match kind {
            DetectorKind::Hog => None,
            DetectorKind::Cnn => {
                let path = models.verified(ModelKind::CnnDetector)?;
                Some(
                    FaceDetectorCnn::open(&path)
                        .map_err(|message| ModelError::Load { path, message })?,
                )
            }
        };
        Ok(Detector {
            hog: HogDetector::new(),
            cnn,
        })
    }

    /// Detects faces on `image` (`matrix` is the same pixels in dlib's form).
    pub fn detect(
        &self,
        image: &RgbImage,
        matrix: &ImageMatrix,
        settings: &DetectionSettings,
    ) -> Vec<Detection> {
        let mut found = match settings.upsample {
            Upsample::Times(times) => self.run(matrix, settings.detector, times),
            Upsample::Auto => self.detect_adaptive(image, matrix, settings.detector),
        };
        for detection in &mut found {
            detection.bbox = detection
                .bbox
                .clip_like_face_recognition(image.width, image.height);
        }
        found.retain(|d| d.bbox.width() > 1 && d.bbox.height() > 1);
        found.sort_by_key(|d| std::cmp::Reverse(d.bbox.area()));
        found
    }

    fn detect_adaptive(
        &self,
        image: &RgbImage,
        matrix: &ImageMatrix,
        kind: DetectorKind,
    ) -> Vec<Detection> {
        let long_side = image.width.max(image.height);
        if long_side <= AUTO_SMALL_SIDE {
            return self.run(matrix, kind, 1);
        }
        let shrink = long_side.div_ceil(AUTO_WORKING_SIDE);
        if shrink > 1 {
            let small = image.shrink(shrink);
            let small_matrix = to_matrix(&small);
            let found: Vec<Detection> = self
                .run(&small_matrix, kind, 0)
                .into_iter()
                .map(|d| Detection {
                    bbox: d.bbox.scale_up(shrink),
                    ..d
                })
                .collect();
            if !found.is_empty() {
                return found;
            }
            // Nothing at the working size: look at full resolution, as the original method did.
            return self.run(matrix, kind, 0);
        }
        let found = self.run(matrix, kind, 0);
        if !found.is_empty() {
            return found;
        }
        self.run(matrix, kind, 1)
    }

    fn run(&self, matrix: &ImageMatrix, kind: DetectorKind, upsample: u32) -> Vec<Detection> {
        match (kind, &self.cnn) {
            (DetectorKind::Cnn, Some(cnn)) => {
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
                        Detection {
                            bbox: rect_to_box(&rect),
                            score: 1.0,
                        }
                    })
                    .collect()
            }
            _ => self
                .hog
                .detect(matrix, upsample)
                .into_iter()
                .map(|d| Detection {
                    bbox: rect_to_box(&d.rect),
                    score: d.score as f32,
                })
                .collect(),
        }
    }
}

fn rect_to_box(rect: &dlib_face_recognition::Rectangle) -> BoundingBox {
    BoundingBox::new(
        rect.left as i32,
        rect.top as i32,
        rect.right as i32,
        rect.bottom as i32,
    )
}

/// Copies RGB pixels into dlib's image type.
pub fn to_matrix(image: &RgbImage) -> ImageMatrix {
    // SAFETY: `pixels` holds exactly width × height × 3 bytes (checked by `RgbImage::new`).
    unsafe {
        ImageMatrix::new(
            image.width as usize,
            image.height as usize,
            image.pixels.as_ptr(),
        )
    }
}
