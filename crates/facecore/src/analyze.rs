//! One picture in, its faces out: a detector and an embedder loaded together for one worker thread,
//! with the settings they were loaded for (a call cannot ask for other settings).

use facefile::{AnalysisSettings, BoundingBox, EmbedderId, Embedding, Landmarks5};

use crate::detect::{Detection, Detector};
use crate::embed::{EmbedOptions, Embedded, Embedder};
use crate::error::{AnalysisError, ModelError};
use crate::image_io::RgbImage;
use crate::models::ModelDir;
use crate::picture::Picture;

/// A face found and embedded.
#[derive(Debug, Clone)]
pub struct Face {
    pub detection: Detection,
    pub landmarks: Landmarks5,
    pub embedding: Embedding,
    /// The embedding of the face in grey, when asked for.
    pub grey: Option<Embedding>,
    /// The embedding of the face mirrored, when asked for.
    pub mirror: Option<Embedding>,
    /// The face as a small face would show it, at each of
    /// [`SMALL_VIEW_HEIGHTS`](crate::embed::SMALL_VIEW_HEIGHTS), when asked for (SFace).
    pub small: Vec<Embedding>,
    /// The aligned chip, when asked for.
    pub chip: Option<RgbImage>,
}

impl Face {
    fn new(detection: Detection, embedded: Embedded) -> Face {
        Face {
            detection,
            landmarks: embedded.landmarks,
            embedding: embedded.embedding,
            grey: embedded.grey,
            mirror: embedded.mirror,
            small: embedded.small,
            chip: embedded.chip,
        }
    }
}

/// What to compute for a face besides its embedding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Views {
    /// The face in grey.
    pub grey: bool,
    /// The face as small faces show it (SFace; dlib gives none).
    pub small: bool,
    /// The face mirrored left to right.
    pub mirror: bool,
    /// The aligned chip, to look at.
    pub chip: bool,
}

impl Views {
    /// The embedding alone.
    pub const NONE: Views = Views {
        grey: false,
        small: false,
        mirror: false,
        chip: false,
    };
    /// The embedding and its mirror view: what a face is scored with.
    pub const MIRROR: Views = Views {
        grey: false,
        small: false,
        mirror: true,
        chip: false,
    };
}

/// Detector and embedder of one worker thread. Not `Sync`.
pub struct FaceAnalyzer {
    settings: AnalysisSettings,
    detector: Detector,
    embedder: Embedder,
}

impl FaceAnalyzer {
    pub fn load(models: &ModelDir, settings: AnalysisSettings) -> Result<FaceAnalyzer, ModelError> {
        if let Some(conflict) = settings.conflict() {
            return Err(ModelError::Incompatible(conflict));
        }
        Ok(FaceAnalyzer {
            settings,
            detector: Detector::load(models, &settings.detection)?,
            embedder: Embedder::load(models, settings.embedder)?,
        })
    }

    pub fn settings(&self) -> &AnalysisSettings {
        &self.settings
    }

    /// The identity of the vectors this analyzer makes.
    pub fn embedder_id(&self) -> EmbedderId {
        self.settings.embedder.id()
    }

    /// Faces in the picture, most trusted and largest first; `max_width` scales wide pictures down
    /// before detecting (boxes come back in full-resolution pixels).
    pub fn detect(
        &mut self,
        picture: &Picture,
        max_width: Option<u32>,
    ) -> Result<Vec<Detection>, AnalysisError> {
        self.detector
            .detect(picture, &self.settings.detection, max_width)
    }

    /// The face at `detection`, embedded from the full-resolution picture.
    pub fn embed(
        &mut self,
        picture: &Picture,
        detection: &Detection,
        views: Views,
    ) -> Result<Face, AnalysisError> {
        let options = EmbedOptions {
            grey_view: views.grey,
            small_views: views.small,
            mirror_view: views.mirror,
            chip: views.chip,
            jitter: self.settings.jitter.max(1),
        };
        let embedded = self.embedder.embed(picture, detection, options)?;
        Ok(Face::new(*detection, embedded))
    }

    /// Every face in the picture, detected and embedded.
    pub fn analyze(&mut self, picture: &Picture) -> Result<Vec<Face>, AnalysisError> {
        let detections = self.detect(picture, None)?;
        detections
            .iter()
            .map(|detection| self.embed(picture, detection, Views::NONE))
            .collect()
    }

    /// Embeds faces at known boxes (face_recognition's `face_encodings(img, known_face_locations)`);
    /// dlib's embedder only, as SFace needs YuNet's landmarks.
    pub fn encode_boxes(
        &mut self,
        picture: &Picture,
        boxes: &[BoundingBox],
    ) -> Result<Vec<Face>, AnalysisError> {
        boxes
            .iter()
            .map(|bbox| {
                let detection = Detection {
                    bbox: *bbox,
                    score: f32::NAN,
                    confidence: 1.0,
                    landmarks: None,
                };
                self.embed(picture, &detection, Views::NONE)
            })
            .collect()
    }
}
