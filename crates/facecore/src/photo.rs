//! One photo, start to finish: read its bytes, hash them, decode them by content, find the faces,
//! pick the subject and embed it. The encoder and the cleaner both go through [`examine`], so they
//! agree on every photo under the same settings.

use facefile::format::encodings::{EncodedFace, Outcome, Rejection};
use facefile::MultiFacePolicy;

use crate::analyze::{Face, FaceAnalyzer, Views};
use crate::detect::{weight, Detection};
use crate::image_io::{decode_bytes, difference_hash, DecodeOptions, RgbImage};
use crate::picture::Picture;

/// The main face must outweigh the next by this much (area × detector confidence) for
/// [`MultiFacePolicy::Dominant`].
pub const DOMINANT_WEIGHT_RATIO: f64 = 2.0;

/// How to examine a photo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExamineOptions {
    pub decode: DecodeOptions,
    pub policy: MultiFacePolicy,
    /// What to compute for the subject besides its embedding.
    pub views: Views,
}

/// What a photo turned out to be.
#[derive(Debug, Clone)]
pub struct Examined {
    pub sha256: String,
    pub size: u64,
    /// The decoded image's facts, or why it could not be decoded.
    pub content: Result<ImageFacts, String>,
}

#[derive(Debug, Clone)]
pub struct ImageFacts {
    /// The real format, from the bytes ("JPEG", "PNG", …).
    pub format: &'static str,
    pub cmyk: bool,
    pub dhash: u64,
    pub width: u32,
    pub height: u32,
    /// `None` when no analyzer was given (face checks off).
    pub faces: Option<FaceFindings>,
}

#[derive(Debug, Clone)]
pub struct FaceFindings {
    /// Faces the detector found.
    pub count: usize,
    /// The face that stands for the photo under the policy, embedded; `None` when there is no
    /// face or no clear subject.
    pub subject: Option<Face>,
    /// Analysis failed on a decoded picture (reported as the photo's outcome).
    pub error: Option<String>,
}

/// Examines a photo's bytes. Never fails: every problem is part of the result.
pub fn examine(
    bytes: &[u8],
    analyzer: Option<&mut FaceAnalyzer>,
    options: &ExamineOptions,
) -> Examined {
    let sha256 = facefile::fs::sha256_bytes(bytes);
    let size = bytes.len() as u64;
    let decoded = match decode_bytes(bytes, &options.decode) {
        Ok(decoded) => decoded,
        Err(error) => {
            return Examined {
                sha256,
                size,
                content: Err(error.to_string()),
            }
        }
    };
    let (format, cmyk) = (decoded.format, decoded.cmyk);
    let dhash = difference_hash(&decoded.image);
    let (width, height) = (decoded.image.width(), decoded.image.height());
    let faces = analyzer.map(|analyzer| find_faces(decoded.image, analyzer, options));
    Examined {
        sha256,
        size,
        content: Ok(ImageFacts {
            format,
            cmyk,
            dhash,
            width,
            height,
            faces,
        }),
    }
}

/// The faces of a photo already decoded (by [`decode_bytes`] with `options.decode`): how many,
/// and the subject under the policy, embedded.
pub fn find_faces(
    image: RgbImage,
    analyzer: &mut FaceAnalyzer,
    options: &ExamineOptions,
) -> FaceFindings {
    find_subject(analyzer, &Picture::from_rgb(image), options)
}

fn find_subject(
    analyzer: &mut FaceAnalyzer,
    picture: &Picture,
    options: &ExamineOptions,
) -> FaceFindings {
    let detections = match analyzer.detect(picture, None) {
        Ok(detections) => detections,
        Err(error) => {
            return FaceFindings {
                count: 0,
                subject: None,
                error: Some(error.to_string()),
            }
        }
    };
    let Some(index) = pick_subject(&detections, options.policy) else {
        return FaceFindings {
            count: detections.len(),
            subject: None,
            error: None,
        };
    };
    match analyzer.embed(picture, &detections[index], options.views) {
        Ok(face) => FaceFindings {
            count: detections.len(),
            subject: Some(face),
            error: None,
        },
        Err(error) => FaceFindings {
            count: detections.len(),
            subject: None,
            error: Some(error.to_string()),
        },
    }
}

/// The index of the face that stands for the photo's subject (detections sorted most trusted
/// first, as the detector returns them).
pub fn pick_subject(detections: &[Detection], policy: MultiFacePolicy) -> Option<usize> {
    match detections {
        [] => None,
        [_] => Some(0),
        [first, second, ..] => match policy {
            MultiFacePolicy::Largest => detections
                .iter()
                .enumerate()
                .max_by_key(|(_, d)| d.bbox.area())
                .map(|(i, _)| i),
            MultiFacePolicy::Reject => None,
            MultiFacePolicy::Dominant => {
                (weight(first) >= DOMINANT_WEIGHT_RATIO * weight(second)).then_some(0)
            }
        },
    }
}

impl Examined {
    /// The photo's outcome for the encodings file.
    pub fn outcome(&self) -> Outcome {
        let facts = match &self.content {
            Err(message) => {
                return Outcome::Rejected(Rejection::Unreadable {
                    message: message.clone(),
                })
            }
            Ok(facts) => facts,
        };
        let Some(faces) = &facts.faces else {
            return Outcome::Rejected(Rejection::NoFace);
        };
        if let Some(error) = &faces.error {
            return Outcome::Rejected(Rejection::Unreadable {
                message: error.clone(),
            });
        }
        match &faces.subject {
            None if faces.count == 0 => Outcome::Rejected(Rejection::NoFace),
            None => Outcome::Rejected(Rejection::SeveralFaces {
                count: faces.count as u32,
            }),
            Some(face) => Outcome::Encoded(EncodedFace {
                bbox: face.detection.bbox,
                detection_score: face.detection.score,
                landmarks: face.landmarks,
                embedding: face.embedding.clone(),
                extra_views: face.grey.iter().cloned().collect(),
                small_views: face.small.clone(),
                mirror: face.mirror.clone(),
                faces_found: faces.count as u32,
                image_width: facts.width,
                image_height: facts.height,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use facefile::BoundingBox;

    fn detection(side: i32, confidence: f32) -> Detection {
        Detection {
            bbox: BoundingBox::new(0, 0, side - 1, side - 1),
            score: confidence,
            confidence,
            landmarks: None,
        }
    }

    #[test]
    fn subject_policy_weighs_the_detector_confidence() {
        let big = detection(100, 1.0);
        let half = detection(70, 1.0); // 4900 px² < 10000 / 2
        let close = detection(90, 1.0);
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
        // A face of 259 px (HOG score 2.07) beside a plush toy of 216 px found with score 0:
        // areas only 1.44× apart, but the toy's confidence is half, so the face is the subject.
        let face = detection(259, crate::detect::dlib::hog_confidence(2.07));
        let toy = detection(216, crate::detect::dlib::hog_confidence(0.0));
        assert_eq!(
            pick_subject(&[face, toy], MultiFacePolicy::Dominant),
            Some(0)
        );
    }
}
