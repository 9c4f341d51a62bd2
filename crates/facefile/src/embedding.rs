//! Face embeddings, and the identity of the model that made them.
//!
//! Two embedding models are supported, and their vectors must never be mixed: a classifier trained
//! on one model's vectors means nothing for the other's. Every file that holds vectors records an
//! [`EmbedderId`] (name, dimension and the SHA-256 of each model file that shapes the vectors), and
//! every stage compares it with what it is given before using anything.

use serde::{Deserialize, Deserializer, Serialize};

use crate::geometry::Point;
use crate::models::ModelFile;

/// A face embedding: a point in the model's space where photos of one person lie close together.
/// Its values are always finite (checked when read from a file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// `None` when `values` is empty or holds a NaN or an infinity.
    pub fn new(values: Vec<f32>) -> Option<Embedding> {
        (!values.is_empty() && values.iter().all(|v| v.is_finite())).then_some(Embedding(values))
    }

    pub fn values(&self) -> &[f32] {
        &self.0
    }

    pub fn dimension(&self) -> usize {
        self.0.len()
    }

    /// Euclidean distance. For SFace's unit-length vectors it orders pairs exactly as the cosine
    /// does (‖a − b‖² = 2 − 2·cos); for dlib's it is the distance dlib's model was trained on.
    pub fn distance(&self, other: &Embedding) -> f32 {
        debug_assert_eq!(self.0.len(), other.0.len());
        // Eight independent accumulators let the compiler vectorise the sum.
        let mut lanes = [0f32; 8];
        let (a_chunks, b_chunks) = (self.0.chunks_exact(8), other.0.chunks_exact(8));
        let tail: f32 = a_chunks
            .remainder()
            .iter()
            .zip(b_chunks.remainder())
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        for (a, b) in a_chunks.zip(b_chunks) {
            for lane in 0..8 {
                let d = a[lane] - b[lane];
                lanes[lane] += d * d;
            }
        }
        (lanes.iter().sum::<f32>() + tail).sqrt()
    }

    /// The weighted mean of embeddings (weights > 0), scaled to unit length when `unit` is set
    /// (SFace's space is a sphere). `None` for no embeddings or no weight.
    pub fn weighted_mean<'a>(
        items: impl IntoIterator<Item = (&'a Embedding, f32)>,
        unit: bool,
    ) -> Option<Embedding> {
        let mut sum: Vec<f64> = Vec::new();
        let mut total = 0f64;
        for (embedding, weight) in items {
            if !(weight.is_finite() && weight > 0.0) {
                continue;
            }
            if sum.is_empty() {
                sum = vec![0.0; embedding.0.len()];
            }
            for (s, v) in sum.iter_mut().zip(&embedding.0) {
                *s += *v as f64 * weight as f64;
            }
            total += weight as f64;
        }
        if total <= 0.0 {
            return None;
        }
        let mut values: Vec<f32> = sum.iter().map(|s| (s / total) as f32).collect();
        if unit {
            let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                values.iter_mut().for_each(|v| *v /= norm);
            }
        }
        Embedding::new(values)
    }
}

impl<'de> Deserialize<'de> for Embedding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = Vec::<f32>::deserialize(deserializer)?;
        if values.is_empty() {
            return Err(serde::de::Error::custom("an embedding has no values"));
        }
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(serde::de::Error::custom(format!(
                "an embedding holds the non-finite value {bad}"
            )));
        }
        Ok(Embedding(values))
    }
}

/// Five landmarks: dlib's 5-point model gives eye corners and the nose base; YuNet gives the eye
/// centres, the nose tip and the mouth corners.
pub type Landmarks5 = [Point; 5];

/// Which embedding model to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// OpenCV Zoo's SFace (2021dec) on faces found and aligned by YuNet (2023mar): the default, it
    /// tells look-alike members apart far better than dlib.
    #[default]
    Sface,
    /// dlib's ResNet (face_recognition's model), bit-identical to face_recognition 1.3.0.
    Dlib,
}

impl EmbedderKind {
    pub const ALL: [EmbedderKind; 2] = [EmbedderKind::Sface, EmbedderKind::Dlib];

    /// The name written in files and accepted by `--embedder`.
    pub fn name(self) -> &'static str {
        match self {
            EmbedderKind::Sface => "sface",
            EmbedderKind::Dlib => "dlib",
        }
    }

    /// The model files whose bytes decide the vectors.
    pub fn files(self) -> &'static [ModelFile] {
        match self {
            // YuNet's landmarks place SFace's alignment, so the detector is part of the identity.
            EmbedderKind::Sface => &[ModelFile::SfaceRecogniser, ModelFile::YunetDetector],
            EmbedderKind::Dlib => &[ModelFile::DlibEmbedding, ModelFile::DlibLandmarks5],
        }
    }

    pub fn dimension(self) -> u32 {
        128
    }

    /// Whether the vectors have unit length (so means are scaled back onto the sphere).
    pub fn unit_length(self) -> bool {
        matches!(self, EmbedderKind::Sface)
    }

    /// The distance under which two faces are usually one person, as the model's authors publish
    /// it (dlib: 0.6 on LFW; SFace: cosine 0.363). Only a fallback when the training photos are too
    /// few to learn a threshold from; look-alike groups break both.
    pub fn published_same_person_distance(self) -> f32 {
        match self {
            EmbedderKind::Dlib => 0.6,
            // ‖a − b‖ = √(2 − 2·0.363) for unit vectors.
            EmbedderKind::Sface => (2.0f32 - 2.0 * 0.363).sqrt(),
        }
    }

    /// The identity this build's model files give.
    pub fn id(self) -> EmbedderId {
        EmbedderId {
            name: self.name().to_string(),
            dimension: self.dimension(),
            files: self
                .files()
                .iter()
                .map(|f| ModelFileId {
                    file: f.file_name().to_string(),
                    sha256: f.sha256().to_string(),
                })
                .collect(),
        }
    }

    pub fn from_name(name: &str) -> Option<EmbedderKind> {
        EmbedderKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for EmbedderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What made a set of vectors: recorded in every file that holds embeddings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedderId {
    /// `sface` or `dlib`.
    pub name: String,
    pub dimension: u32,
    pub files: Vec<ModelFileId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFileId {
    pub file: String,
    pub sha256: String,
}

impl EmbedderId {
    /// The known embedder with this identity, if the files are the ones this build pins.
    pub fn kind(&self) -> Option<EmbedderKind> {
        EmbedderKind::from_name(&self.name).filter(|k| k.id() == *self)
    }

    /// For messages: `sface (128-d)`, or the name and the first file's hash prefix when unknown.
    pub fn describe(&self) -> String {
        match self.kind() {
            Some(kind) => format!("{kind} ({}-d)", self.dimension),
            None => format!(
                "{} ({}-d, model files {})",
                self.name,
                self.dimension,
                self.files
                    .iter()
                    .map(|f| format!("{} {}…", f.file, &f.sha256[..f.sha256.len().min(12)]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_is_euclidean_and_round_trips_bit_exactly() {
        let mut a = vec![0f32; 128];
        let mut b = vec![0f32; 128];
        a[0] = 3.0;
        b[127] = 4.0;
        let (a, b) = (Embedding::new(a).unwrap(), Embedding::new(b).unwrap());
        assert_eq!(a.distance(&b), 5.0);
        let c = Embedding::new((0..128).map(|i| (i as f32).sin() / 7.0).collect()).unwrap();
        let bytes = rmp_serde::to_vec(&c).unwrap();
        let back: Embedding = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(
            back.values()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            c.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn non_finite_values_are_refused_when_read() {
        assert!(Embedding::new(vec![1.0, f32::NAN]).is_none());
        assert!(Embedding::new(vec![]).is_none());
        let bytes = rmp_serde::to_vec(&vec![1.0f32, f32::INFINITY]).unwrap();
        let err = rmp_serde::from_slice::<Embedding>(&bytes).unwrap_err();
        assert!(err.to_string().contains("non-finite"), "{err}");
    }

    #[test]
    fn weighted_mean_on_the_sphere() {
        let x = Embedding::new(vec![1.0, 0.0]).unwrap();
        let y = Embedding::new(vec![0.0, 1.0]).unwrap();
        let m = Embedding::weighted_mean([(&x, 1.0), (&y, 1.0)], true).unwrap();
        let s = std::f32::consts::FRAC_1_SQRT_2;
        assert!((m.values()[0] - s).abs() < 1e-6 && (m.values()[1] - s).abs() < 1e-6);
        let m = Embedding::weighted_mean([(&x, 3.0), (&y, 1.0)], false).unwrap();
        assert_eq!(m.values(), &[0.75, 0.25]);
        assert!(Embedding::weighted_mean([(&x, 0.0)], false).is_none());
    }

    #[test]
    fn identities_differ_by_model_and_describe_themselves() {
        let sface = EmbedderKind::Sface.id();
        let dlib = EmbedderKind::Dlib.id();
        assert_ne!(sface, dlib);
        assert_eq!(sface.kind(), Some(EmbedderKind::Sface));
        assert_eq!(sface.describe(), "sface (128-d)");
        let mut other = dlib.clone();
        other.files[0].sha256 = "0".repeat(64);
        assert_eq!(other.kind(), None);
        assert!(
            other.describe().contains("000000000000…"),
            "{}",
            other.describe()
        );
    }
}
