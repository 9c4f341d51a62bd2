//! Landmarks, alignment and the 128-d embedding.

use std::sync::Mutex;

use dlib_face_recognition::{
    FaceEncoderNetwork, FaceEncoderTrait, FaceLandmarks, ImageMatrix, LandmarkPredictor,
    LandmarkPredictorTrait, Rectangle,
};
use serde::{Deserialize, Serialize};
use serde_with::serde_as;

use crate::dlib_bridge;
use crate::error::ModelError;
use crate::geometry::{BoundingBox, Point};
use crate::models::{ModelDir, ModelKind};

/// Number of dimensions of dlib's face embedding.
pub const EMBEDDING_DIM: usize = 128;
/// Side of the aligned face chip the network reads.
pub const CHIP_SIZE: u32 = 150;
/// Padding around the landmarks used to cut the chip (dlib's and face_recognition's value).
pub const CHIP_PADDING: f64 = 0.25;

/// A 128-d face embedding. dlib's network computes in `f32`, so `f32` stores it exactly.
#[serde_as]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Embedding(#[serde_as(as = "[_; 128]")] pub [f32; EMBEDDING_DIM]);

impl Embedding {
    /// Euclidean distance; dlib's model puts photos of one person within ~0.6 of each other
    /// (on LFW; not for look-alike groups, see the README).
    pub fn distance(&self, other: &Embedding) -> f32 {
        // Eight independent accumulators let the compiler vectorise the sum.
        let mut lanes = [0f32; 8];
        for (a, b) in self.0.chunks_exact(8).zip(other.0.chunks_exact(8)) {
            for lane in 0..8 {
                let d = a[lane] - b[lane];
                lanes[lane] += d * d;
            }
        }
        lanes.iter().sum::<f32>().sqrt()
    }

    pub fn from_slice(values: &[f32]) -> Option<Embedding> {
        values.try_into().ok().map(Embedding)
    }
}

/// The five landmarks of dlib's 5-point model: right eye corners, left eye corners, nose base.
pub type Landmarks5 = [Point; 5];

/// The landmark predictor and the embedding network, loaded from verified files.
/// Not `Sync`: each worker thread owns one.
pub struct FaceEncoder {
    predictor: LandmarkPredictor,
    network: FaceEncoderNetwork,
}

/// dlib's jitter draws from one global random generator in the bindings, which is not thread-safe:
/// jittered encodings are serialised through this lock.
static JITTER_LOCK: Mutex<()> = Mutex::new(());

impl FaceEncoder {
    pub fn load(models: &ModelDir) -> Result<FaceEncoder, ModelError> {
        let predictor_path = models.verified(ModelKind::Landmarks5)?;
        let network_path = models.verified(ModelKind::FaceEmbedding)?;
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
        Ok(FaceEncoder { predictor, network })
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
    pub fn embed(&self, image: &ImageMatrix, landmarks: &FaceLandmarks, jitter: u32) -> Embedding {
        let _guard = (jitter > 1).then(|| JITTER_LOCK.lock().unwrap_or_else(|e| e.into_inner()));
        let encodings =
            self.network
                .get_face_encodings(image, std::slice::from_ref(landmarks), jitter);
        let encoding = encodings.first().expect("one encoding per landmark set");
        let mut values = [0f32; EMBEDDING_DIM];
        for (value, &v) in values.iter_mut().zip(encoding.as_ref().iter()) {
            *value = v as f32;
        }
        Embedding(values)
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
pub fn aligned_chip(image: &ImageMatrix, landmarks: &FaceLandmarks) -> Vec<u8> {
    dlib_bridge::face_chip(image, landmarks, CHIP_SIZE, CHIP_PADDING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_distance_is_euclidean_and_round_trips_bit_exactly() {
        let mut a = [0f32; 128];
        let mut b = [0f32; 128];
        a[0] = 3.0;
        b[1] = 4.0;
        let (a, b) = (Embedding(a), Embedding(b));
        assert_eq!(a.distance(&b), 5.0);
        let mut c = [0f32; 128];
        c.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = (i as f32).sin() / 7.0);
        let c = Embedding(c);
        let bytes = rmp_serde::to_vec(&c).unwrap();
        let back: Embedding = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back.0.map(f32::to_bits), c.0.map(f32::to_bits));
    }
}
