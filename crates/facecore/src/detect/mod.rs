//! Face detection: YuNet (with `--embedder sface`, and the default) or dlib's HOG/CNN detectors,
//! behind one [`Detector`] that returns boxes in the picture's full-resolution pixels, each with
//! the detector's score, a 0–1 confidence that means the same for every detector, and (YuNet) five
//! landmarks.

pub mod dlib;
pub mod yunet;

use facefile::settings::DetectionSettings;
use facefile::{BoundingBox, DetectorKind};
use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;

use crate::error::{AnalysisError, ModelError};
use crate::models::{ModelDir, ModelFile};
use crate::picture::Picture;

/// YuNet looks at photos scaled down to at most this long side: faces in photos are rarely small,
/// and the time grows with the pixels.
pub const YUNET_PHOTO_SIDE: u32 = 1024;
/// YuNet's score below which a candidate is dropped. OpenCV's default is 0.9; 0.7 keeps faces of
/// ~20 px in group shots, and the confidence weighs the rest.
pub const YUNET_MIN_SCORE: f32 = 0.7;

/// A face found, in the picture's full-resolution pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub bbox: BoundingBox,
    /// The detector's own score (YuNet: 0–1; HOG: SVM margin, 0 its threshold; CNN: 1).
    pub score: f32,
    /// How much to trust it, 0–1, comparable across detectors.
    pub confidence: f32,
    /// YuNet's five landmarks (right eye, left eye, nose tip, mouth corners), which SFace aligns
    /// with; dlib's landmarks are found later from the box.
    pub landmarks: Option<[[f32; 2]; 5]>,
}

/// A loaded detector. Not `Sync`: each worker thread owns one.
pub enum Detector {
    /// Boxed: dlib's detector is large and loaded once per worker.
    Dlib(Box<dlib::DlibDetector>),
    Yunet(yunet::YuNet),
}

impl Detector {
    pub fn load(models: &ModelDir, settings: &DetectionSettings) -> Result<Detector, ModelError> {
        match settings.detector {
            DetectorKind::Yunet => {
                let path = models.verified(ModelFile::YunetDetector)?;
                let net = yunet::YuNet::load(&path).map_err(|e| ModelError::Load {
                    path,
                    message: e.message,
                })?;
                Ok(Detector::Yunet(net))
            }
            kind => Ok(Detector::Dlib(Box::new(dlib::DlibDetector::load(
                models, kind,
            )?))),
        }
    }

    /// Faces in `picture`, most trusted and largest first. `max_width` scales wide pictures
    /// (video frames) down before detecting; photos use each detector's own rule.
    pub fn detect(
        &mut self,
        picture: &Picture,
        settings: &DetectionSettings,
        max_width: Option<u32>,
    ) -> Result<Vec<Detection>, AnalysisError> {
        let scale = match (max_width, &*self) {
            (Some(max), _) if picture.width() > max && max > 0 => {
                picture.width() as f64 / max as f64
            }
            (None, Detector::Yunet(_))
                if picture.width().max(picture.height()) > YUNET_PHOTO_SIDE =>
            {
                picture.width().max(picture.height()) as f64 / YUNET_PHOTO_SIDE as f64
            }
            _ => 1.0,
        };
        let scaled;
        let working = if scale > 1.0 {
            scaled = Picture::from_bgr(resize(picture.bgr()?, scale)?)?;
            &scaled
        } else {
            picture
        };
        let mut found: Vec<Detection> = match self {
            Detector::Yunet(net) => net
                .detect(working.bgr()?, YUNET_MIN_SCORE)?
                .into_iter()
                .map(|face| {
                    let face = face.scaled(scale as f32);
                    let [x, y, w, h] = face.rect;
                    let bbox = BoundingBox::new(
                        x.round() as i32,
                        y.round() as i32,
                        (x + w).round() as i32 - 1,
                        (y + h).round() as i32 - 1,
                    )
                    .clip(picture.width(), picture.height());
                    Detection {
                        bbox,
                        score: face.score,
                        confidence: face.score,
                        landmarks: Some(face.landmarks),
                    }
                })
                .collect(),
            Detector::Dlib(detector) => {
                let upsample = settings.upsample;
                let image = working.rgb()?;
                let matrix = working.matrix()?;
                detector
                    .detect(image, matrix, upsample)
                    .into_iter()
                    .map(|d| Detection {
                        bbox: if scale > 1.0 {
                            d.bbox.scaled(scale)
                        } else {
                            d.bbox
                        },
                        score: d.score,
                        confidence: match settings.detector {
                            DetectorKind::Hog => dlib::hog_confidence(d.score),
                            _ => 1.0,
                        },
                        landmarks: None,
                    })
                    .collect()
            }
        };
        found.retain(|d| d.bbox.width() > 1 && d.bbox.height() > 1);
        found.sort_by(|a, b| {
            weight(b)
                .total_cmp(&weight(a))
                .then(b.bbox.area().cmp(&a.bbox.area()))
        });
        Ok(found)
    }
}

/// A detection's weight when deciding which face is a photo's subject: its area times the
/// detector's confidence, so a plush toy found with a score of 0 does not rival a clear face.
pub fn weight(detection: &Detection) -> f64 {
    detection.bbox.area() as f64 * detection.confidence as f64
}

fn resize(bgr: &Mat, scale: f64) -> Result<Mat, AnalysisError> {
    let size = Size::new(
        ((bgr.cols() as f64 / scale).round() as i32).max(1),
        ((bgr.rows() as f64 / scale).round() as i32).max(1),
    );
    let mut small = Mat::default();
    imgproc::resize(bgr, &mut small, size, 0.0, 0.0, imgproc::INTER_AREA)?;
    Ok(small)
}
