//! One photo in, its faces out: detection, landmarks, alignment and embedding together, with the
//! models a worker thread owns.

use serde::{Deserialize, Serialize};

use crate::detect::{to_matrix, Detection, DetectionSettings, Detector};
use crate::embed::{aligned_chip, landmark_points, Embedding, FaceEncoder, Landmarks5};
use crate::error::ModelError;
use crate::geometry::BoundingBox;
use crate::image_io::RgbImage;
use crate::models::ModelDir;

/// A face found and encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub bbox: BoundingBox,
    pub detection_score: f32,
    pub landmarks: Landmarks5,
    pub embedding: Embedding,
}

/// What to compute for each photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AnalysisSettings {
    pub detection: DetectionSettings,
    /// Number of jittered chips averaged per embedding; 0 and 1 both mean none.
    pub jitter: u32,
}

/// Detector, landmark predictor and embedding network of one worker thread.
pub struct FaceAnalyzer {
    detector: Detector,
    encoder: FaceEncoder,
}

impl FaceAnalyzer {
    pub fn load(
        models: &ModelDir,
        settings: &AnalysisSettings,
    ) -> Result<FaceAnalyzer, ModelError> {
        Ok(FaceAnalyzer {
            detector: Detector::load(models, settings.detection.detector)?,
            encoder: FaceEncoder::load(models)?,
        })
    }

    /// Detections only, largest first.
    pub fn detect(&self, image: &RgbImage, settings: &AnalysisSettings) -> Vec<Detection> {
        self.detector
            .detect(image, &to_matrix(image), &settings.detection)
    }

    /// Every face in the photo, largest first. With `chips`, also each aligned 150×150 RGB chip.
    pub fn analyze(
        &self,
        image: &RgbImage,
        settings: &AnalysisSettings,
        chips: bool,
    ) -> Vec<(Face, Option<Vec<u8>>)> {
        let matrix = to_matrix(image);
        let detections = self.detector.detect(image, &matrix, &settings.detection);
        detections
            .iter()
            .map(|detection| {
                let landmarks = self.encoder.landmarks(&matrix, &detection.bbox);
                let embedding = self.encoder.embed(&matrix, &landmarks, settings.jitter);
                let chip = chips.then(|| aligned_chip(&matrix, &landmarks));
                let face = Face {
                    bbox: detection.bbox,
                    detection_score: detection.score,
                    landmarks: landmark_points(&landmarks),
                    embedding,
                };
                (face, chip)
            })
            .collect()
    }

    /// Encodes faces at known boxes (face_recognition's `face_encodings(img, known_face_locations)`).
    pub fn encode_boxes(&self, image: &RgbImage, boxes: &[BoundingBox], jitter: u32) -> Vec<Face> {
        let matrix = to_matrix(image);
        boxes
            .iter()
            .map(|bbox| {
                let landmarks = self.encoder.landmarks(&matrix, bbox);
                Face {
                    bbox: *bbox,
                    detection_score: f32::NAN,
                    landmarks: landmark_points(&landmarks),
                    embedding: self.encoder.embed(&matrix, &landmarks, jitter),
                }
            })
            .collect()
    }
}

/// What to do with a photo that shows several faces when one person's photos are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MultiFacePolicy {
    /// Keep the largest face only when it is clearly dominant (at least
    /// [`DOMINANT_AREA_RATIO`] times the area of the next one); otherwise reject the photo.
    #[default]
    Dominant,
    /// Always keep the largest face.
    Largest,
    /// Reject every photo with more than one face.
    Reject,
}

/// How much larger than the runner-up the main face must be for [`MultiFacePolicy::Dominant`].
pub const DOMINANT_AREA_RATIO: f64 = 2.0;

/// The index of the face that stands for the photo's subject, given boxes sorted largest first.
pub fn pick_subject(boxes: &[BoundingBox], policy: MultiFacePolicy) -> Option<usize> {
    match boxes {
        [] => None,
        [_] => Some(0),
        [first, second, ..] => match policy {
            MultiFacePolicy::Largest => Some(0),
            MultiFacePolicy::Reject => None,
            MultiFacePolicy::Dominant => {
                (first.area() as f64 >= DOMINANT_AREA_RATIO * second.area() as f64).then_some(0)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_policy() {
        let big = BoundingBox::new(0, 0, 99, 99);
        let half = BoundingBox::new(0, 0, 69, 69); // 4900 px² < 10000 / 2
        let close = BoundingBox::new(0, 0, 89, 89);
        assert_eq!(pick_subject(&[], MultiFacePolicy::Dominant), None);
        assert_eq!(pick_subject(&[close], MultiFacePolicy::Reject), Some(0));
        assert_eq!(
            pick_subject(&[big, half], MultiFacePolicy::Dominant),
            Some(0)
        );
        assert_eq!(pick_subject(&[big, close], MultiFacePolicy::Dominant), None);
        assert_eq!(
            pick_subject(&[big, close], MultiFacePolicy::Largest),
            Some(0)
        );
        assert_eq!(pick_subject(&[big, half], MultiFacePolicy::Reject), None);
    }
}
