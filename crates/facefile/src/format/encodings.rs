//! `encodings.msgpack`: one record per photo under the data folder, and what became of it.

use serde::{Deserialize, Serialize};

use super::{check_dimension, finite, Format, Stamped};
use crate::embedding::{EmbedderId, Embedding, Landmarks5};
use crate::geometry::BoundingBox;
use crate::settings::{AnalysisSettings, MultiFacePolicy};

/// The encodings file.
pub type EncodingsFile = Stamped<Encodings>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encodings {
    pub settings: EncodeSettings,
    /// The folders the photos were read from (full paths): the labeler never writes into them.
    /// (Absent from files of earlier builds: read as none.)
    #[serde(default)]
    pub data_folders: Vec<String>,
    /// Sorted by role (members first), person, then path.
    pub images: Vec<ImageRecord>,
}

impl Format for Encodings {
    const KIND: &'static str = "facelabel-encodings";
    const VERSION: u32 = 3;
    const PRODUCER: &'static str = "`encoder` (make encode)";

    fn validate(&self, embedder: Option<&EmbedderId>) -> Result<(), String> {
        if embedder.is_none() && self.images.iter().any(|r| r.face().is_some()) {
            return Err("the file holds embeddings but does not say which model made them".into());
        }
        let mut keys = std::collections::HashSet::new();
        for record in &self.images {
            if record.person.trim().is_empty() {
                return Err(format!("{} has an empty person name", record.path));
            }
            if !keys.insert((record.role, &record.person, &record.path)) {
                return Err(format!(
                    "{} ({}) is listed twice",
                    record.path, record.person
                ));
            }
            if let Some(face) = record.face() {
                finite("a detection score", face.detection_score as f64)?;
                check_dimension(
                    embedder,
                    std::iter::once(&face.embedding)
                        .chain(&face.extra_views)
                        .chain(&face.small_views)
                        .chain(&face.mirror),
                )?;
            }
        }
        Ok(())
    }
}

impl Encodings {
    /// The members' encoded faces as `(person, embedding)` pairs.
    pub fn embeddings(&self) -> impl Iterator<Item = (&str, &Embedding)> {
        self.images
            .iter()
            .filter(|record| record.role == Role::Member)
            .filter_map(|record| {
                record
                    .face()
                    .map(|face| (record.person.as_str(), &face.embedding))
            })
    }
}

/// Settings that change the outcome for a photo; a change invalidates reused entries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EncodeSettings {
    pub analysis: AnalysisSettings,
    pub multi_face: MultiFacePolicy,
    pub max_megapixels: u64,
    pub apply_exif_orientation: bool,
    /// Whether each face also gets the embedding of its grey version, so that the classifier learns
    /// faces under colour filters and stage lighting.
    pub grey_views: bool,
    /// Whether each face also gets the embedding of its mirror image.
    pub mirror_views: bool,
    /// Whether each face also gets embeddings of itself as a small face (24 and 40 px tall), so
    /// that the trainer can build a classifier for the small faces of group shots (on unless
    /// `encoder --no-small-views`). (Absent from files of earlier builds, which had none: read as
    /// no.)
    #[serde(default)]
    pub small_views: bool,
}

/// Whose photo it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A member: one of the people the model names.
    Member,
    /// Someone who is not a member (`data/.strangers/<anyone>/`): the trainer learns from them
    /// when to say Unknown.
    Stranger,
}

/// One photo and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The person: the name of the folder the photo is in.
    pub person: String,
    pub role: Role,
    /// Path relative to the folder of person folders it was found in (the data folder, or the
    /// strangers' folder), `/`-separated.
    pub path: String,
    pub file_sha256: String,
    pub file_size: u64,
    pub outcome: Outcome,
}

impl ImageRecord {
    pub fn face(&self) -> Option<&EncodedFace> {
        match &self.outcome {
            Outcome::Encoded(face) => Some(face),
            Outcome::Rejected(_) => None,
        }
    }
}

/// Exactly one outcome per photo.
// Most records are `Encoded`, so boxing the large variant would only add an allocation per photo.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Encoded(EncodedFace),
    Rejected(Rejection),
}

/// The face that stands for the photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedFace {
    pub bbox: BoundingBox,
    pub detection_score: f32,
    pub landmarks: Landmarks5,
    pub embedding: Embedding,
    /// Embeddings of other views of the same face (its grey version), learned from as well.
    pub extra_views: Vec<Embedding>,
    /// The face as small faces show it (24 and 40 px tall), each pooled with its mirror image:
    /// only the trainer's small-face classifier learns from them (off with `encoder
    /// --no-small-views`).
    /// (Absent from files of earlier builds: none.)
    #[serde(default)]
    pub small_views: Vec<Embedding>,
    /// The embedding of the face mirrored left to right.
    pub mirror: Option<Embedding>,
    /// Faces the detector found in the photo (more than 1 when a dominant face was kept).
    pub faces_found: u32,
    /// Size of the decoded (and EXIF-oriented) image the coordinates refer to.
    pub image_width: u32,
    pub image_height: u32,
}

/// Why a photo gave no embedding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// The file could not be read or decoded; the message says why.
    Unreadable { message: String },
    /// No face was found.
    NoFace,
    /// Several faces and none clearly the subject (see `--multi-face`).
    SeveralFaces { count: u32 },
}

impl Rejection {
    /// A short stable name for tables: `unreadable`, `no_face`, `several_faces`.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Unreadable { .. } => "unreadable",
            Rejection::NoFace => "no_face",
            Rejection::SeveralFaces { .. } => "several_faces",
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Unreadable { message } => write!(f, "unreadable: {message}"),
            Rejection::NoFace => write!(f, "no face found"),
            Rejection::SeveralFaces { count } => {
                write!(f, "{count} faces, none clearly the subject")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedding::EmbedderKind;
    use crate::geometry::Point;

    fn sample(dimension: usize) -> EncodingsFile {
        let values: Vec<f32> = (0..dimension).map(|i| i as f32 * 0.001 - 0.05).collect();
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        let embedding = Embedding::new(values.iter().map(|v| v / norm).collect()).unwrap();
        Stamped::new(
            "test",
            Some(EmbedderKind::Sface.id()),
            Encodings {
                data_folders: Vec::new(),
                settings: EncodeSettings {
                    analysis: AnalysisSettings::default(),
                    multi_face: MultiFacePolicy::Dominant,
                    max_megapixels: 64,
                    apply_exif_orientation: true,
                    grey_views: true,
                    mirror_views: true,
                    small_views: true,
                },
                images: vec![
                    ImageRecord {
                        person: "나연".into(),
                        role: Role::Member,
                        path: "나연/1.jpg".into(),
                        file_sha256: "ab".repeat(32),
                        file_size: 10,
                        outcome: Outcome::Encoded(EncodedFace {
                            bbox: BoundingBox::new(1, 2, 30, 40),
                            detection_score: 0.5,
                            landmarks: [Point { x: 1, y: 2 }; 5],
                            embedding: embedding.clone(),
                            extra_views: vec![embedding.clone()],
                            small_views: vec![embedding.clone(), embedding.clone()],
                            mirror: Some(embedding),
                            faces_found: 1,
                            image_width: 100,
                            image_height: 80,
                        }),
                    },
                    ImageRecord {
                        person: "Momo".into(),
                        role: Role::Member,
                        path: "Momo/x.png".into(),
                        file_sha256: "cd".repeat(32),
                        file_size: 3,
                        outcome: Outcome::Rejected(Rejection::SeveralFaces { count: 3 }),
                    },
                ],
            },
        )
    }

    #[test]
    fn round_trips_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enc.msgpack");
        sample(128).write(&path).unwrap();
        let back = EncodingsFile::read(&path).unwrap();
        assert_eq!(back, sample(128));
        assert_eq!(back.body.embeddings().count(), 1);
    }

    #[test]
    fn wrong_dimension_and_missing_embedder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enc.msgpack");
        sample(127).write(&path).unwrap();
        let err = EncodingsFile::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("127 values") && err.contains("encoder"),
            "{err}"
        );
        let mut file = sample(128);
        file.embedder = None;
        file.write(&path).unwrap();
        let err = EncodingsFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("which model"), "{err}");
    }
}
