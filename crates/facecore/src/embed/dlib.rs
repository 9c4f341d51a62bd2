//! dlib's 5-point landmarks, its aligned 150×150 chip and its 128-d ResNet embedding: exactly
//! face_recognition's `face_encodings` (model "small", no jitter by default).

use std::sync::Mutex;

use dlib_face_recognition::{
    FaceEncoderNetwork, FaceEncoderTrait, FaceLandmarks, ImageMatrix, LandmarkPredictor,
    LandmarkPredictorTrait, Rectangle,
};
use facefile::{BoundingBox, Embedding, Landmarks5, Point};

use crate::dlib_bridge;
use crate::error::{AnalysisError, ModelError};
use crate::image_io::RgbImage;
use crate::models::{ModelDir, ModelFile};

/// Side of the aligned face chip the network reads.
pub const CHIP_SIZE: u32 = 150;
/// Padding around the landmarks used to cut the chip (dlib's and face_recognition's value).
pub const CHIP_PADDING: f64 = 0.25;

/// The landmark predictor and the embedding network, loaded from verified files.
/// Not `Sync`: each worker thread owns one.
pub struct DlibEncoder {
    predictor: LandmarkPredictor,
    network: FaceEncoderNetwork,
}

/// dlib's jitter draws from one global random generator in the bindings, which is not thread-safe:
/// jittered encodings are serialised through this lock.
static JITTER_LOCK: Mutex<()> = Mutex::new(());

impl DlibEncoder {
    pub fn load(models: &ModelDir) -> Result<DlibEncoder, ModelError> {
        let predictor_path = models.verified(ModelFile::DlibLandmarks5)?;
        let network_path = models.verified(ModelFile::DlibEmbedding)?;
        let predictor =
            LandmarkPredictor::open(&predictor_path).map_err(|message| ModelError::Load {
                path: predictor_path,
                message,
            })?;
        let network =
            FaceEncoderNetwork::open(&network_path).map_err(|message| ModelError::Load {
                path: network_path,
                message,
            })?;
        dlib_bridge::single_threaded_blas();
        Ok(DlibEncoder { predictor, network })
    }

    /// The 5 landmarks of the face in `bbox`.
    pub fn landmarks(&self, image: &ImageMatrix, bbox: &BoundingBox) -> FaceLandmarks {
        let rect = Rectangle {
            left: bbox.left as _,
            top: bbox.top as _,
            right: bbox.right as _,
            bottom: bbox.bottom as _,
        };
        self.predictor.face_landmarks(image, &rect)
    }

    /// The embedding of the face with these landmarks. `jitter` > 1 averages that many randomly
    /// perturbed chips (slower, slightly more robust), as face_recognition's `num_jitters`.
    pub fn embed(
        &self,
        image: &ImageMatrix,
        landmarks: &FaceLandmarks,
        jitter: u32,
    ) -> Result<Embedding, AnalysisError> {
        let _guard = (jitter > 1).then(|| JITTER_LOCK.lock().unwrap_or_else(|e| e.into_inner()));
        let encodings =
            self.network
                .get_face_encodings(image, std::slice::from_ref(landmarks), jitter);
        let encoding = encodings
            .first()
            .ok_or_else(|| AnalysisError("dlib returned no embedding".into()))?;
        Embedding::new(encoding.as_ref().iter().map(|&v| v as f32).collect())
            .ok_or_else(|| AnalysisError("dlib returned a non-finite embedding".into()))
    }
}

impl DlibEncoder {
    /// The embedding of the face in `bbox` mirrored left to right: the region around the face is
    /// cut out and flipped, and the landmarks are found again on the mirrored face (dlib aligns
    /// from them, so flipping the chip alone would not be the chip of a mirrored face).
    pub fn embed_mirrored(
        &self,
        image: &RgbImage,
        bbox: &BoundingBox,
        jitter: u32,
    ) -> Result<Embedding, AnalysisError> {
        // The face and as much again on every side: room for the chip's padding.
        let margin_x = bbox.width().max(1);
        let margin_y = bbox.height().max(1);
        let region = BoundingBox::new(
            bbox.left - margin_x,
            bbox.top - margin_y,
            bbox.right + margin_x,
            bbox.bottom + margin_y,
        )
        .clip(image.width(), image.height());
        let mirrored = image.crop(&region).mirrored();
        let width = mirrored.width() as i32;
        let face = BoundingBox::new(
            width - 1 - (bbox.right - region.left),
            bbox.top - region.top,
            width - 1 - (bbox.left - region.left),
            bbox.bottom - region.top,
        );
        let matrix = crate::picture::to_matrix(&mirrored);
        let landmarks = self.landmarks(&matrix, &face);
        self.embed(&matrix, &landmarks, jitter)
    }
}

/// The 5 points of a landmark set.
pub fn landmark_points(landmarks: &FaceLandmarks) -> Landmarks5 {
    let mut points = [Point { x: 0, y: 0 }; 5];
    for (point, p) in points.iter_mut().zip(landmarks.iter()) {
        *point = Point {
            x: p.x() as i32,
            y: p.y() as i32,
        };
    }
    points
}

/// The aligned RGB chip (`CHIP_SIZE`²) the network reads for these landmarks.
pub fn aligned_chip(image: &ImageMatrix, landmarks: &FaceLandmarks) -> Option<Vec<u8>> {
    dlib_bridge::face_chip(image, landmarks, CHIP_SIZE, CHIP_PADDING)
}
