//! The versioned MessagePack files the stages exchange, and how they are written (atomically) and
//! read (kind and version checked before anything else).
//!
//! Every file is a MessagePack map whose first two keys are `kind` and `version`; the fields of each
//! kind are documented in the README. Files record the SHA-256 of the models that produced the
//! embeddings in them, so a later stage can refuse to mix embeddings of different models.

use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::analyze::{AnalysisSettings, MultiFacePolicy};
use crate::embed::{Embedding, Landmarks5};
use crate::error::FormatError;
use crate::geometry::BoundingBox;
use crate::models::ModelKind;

/// The models behind a set of embeddings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFingerprint {
    pub embedding_model_sha256: String,
    pub landmark_model_sha256: String,
}

impl ModelFingerprint {
    /// The fingerprint of the pinned models this build verifies and loads.
    pub fn current() -> ModelFingerprint {
        ModelFingerprint {
            embedding_model_sha256: ModelKind::FaceEmbedding.sha256().to_string(),
            landmark_model_sha256: ModelKind::Landmarks5.sha256().to_string(),
        }
    }
}

/// `kind` of an encodings file.
pub const ENCODINGS_KIND: &str = "facelabel-encodings";
/// Version of the encodings format this build writes and reads.
pub const ENCODINGS_VERSION: u32 = 1;

/// `encodings.msgpack`: one record per photo found under the data folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodingsFile {
    pub kind: String,
    pub version: u32,
    /// Program and version that wrote the file, e.g. `encoder 0.1.0`.
    pub producer: String,
    pub models: ModelFingerprint,
    pub settings: EncodeSettings,
    /// Sorted by person, then path.
    pub images: Vec<ImageRecord>,
}

/// Settings that change the outcome for a photo; a change invalidates reused entries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EncodeSettings {
    pub analysis: AnalysisSettings,
    pub multi_face: MultiFacePolicy,
    pub max_megapixels: u64,
    pub apply_exif_orientation: bool,
}

/// One photo and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The person: the name of the folder the photo is in, verbatim.
    pub person: String,
    /// Path relative to the data folder, `/`-separated.
    pub path: String,
    pub file_sha256: String,
    pub file_size: u64,
    pub outcome: Outcome,
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

impl EncodingsFile {
    pub fn new(
        producer: String,
        settings: EncodeSettings,
        images: Vec<ImageRecord>,
    ) -> EncodingsFile {
        EncodingsFile {
            kind: ENCODINGS_KIND.to_string(),
            version: ENCODINGS_VERSION,
            producer,
            models: ModelFingerprint::current(),
            settings,
            images,
        }
    }

    pub fn read(path: &Path) -> Result<EncodingsFile, FormatError> {
        read_versioned(path, &ENCODINGS)
    }

    pub fn write(&self, path: &Path) -> Result<(), FormatError> {
        write_versioned(path, self, &ENCODINGS)
    }

    /// The encoded faces as `(person, embedding)` pairs.
    pub fn embeddings(&self) -> impl Iterator<Item = (&str, &Embedding)> {
        self.images
            .iter()
            .filter_map(|record| match &record.outcome {
                Outcome::Encoded(face) => Some((record.person.as_str(), &face.embedding)),
                Outcome::Rejected(_) => None,
            })
    }
}

/// What identifies and produces one kind of file.
pub struct FileKind {
    pub kind: &'static str,
    pub version: u32,
    /// What makes it, for error messages.
    pub producer: &'static str,
}

pub const ENCODINGS: FileKind = FileKind {
    kind: ENCODINGS_KIND,
    version: ENCODINGS_VERSION,
    producer: "`encoder` (make encode)",
};

#[derive(Deserialize)]
struct Header {
    kind: String,
    version: u32,
}

/// Reads a file of `spec`'s kind, checking kind and version before decoding the rest.
pub fn read_versioned<T: DeserializeOwned>(path: &Path, spec: &FileKind) -> Result<T, FormatError> {
    let bytes = std::fs::read(path).map_err(|source| FormatError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let decode_error = |message: String| FormatError::Decode {
        path: path.to_path_buf(),
        expected: spec.kind,
        producer: spec.producer,
        message,
    };
    if bytes.is_empty() {
        return Err(decode_error("the file is empty".into()));
    }
    let header: Header = rmp_serde::from_slice(&bytes).map_err(|e| decode_error(e.to_string()))?;
    if header.kind != spec.kind {
        return Err(FormatError::WrongKind {
            path: path.to_path_buf(),
            found: header.kind,
            expected: spec.kind,
            producer: spec.producer,
        });
    }
    if header.version != spec.version {
        return Err(FormatError::UnsupportedVersion {
            path: path.to_path_buf(),
            kind: spec.kind,
            found: header.version,
            supported: spec.version,
            fix: if header.version > spec.version {
                "it was written by a newer version of this tool: update the tool"
            } else {
                "it was written by an older version of this tool: regenerate it"
            },
        });
    }
    rmp_serde::from_slice(&bytes).map_err(|e| decode_error(e.to_string()))
}

/// Writes `value` as a MessagePack map, atomically: a temporary file in the same folder, flushed to
/// disk, then renamed over `path`. A crash or Ctrl-C leaves the old file or the new one, never half.
pub fn write_versioned<T: Serialize>(
    path: &Path,
    value: &T,
    spec: &FileKind,
) -> Result<(), FormatError> {
    let bytes = rmp_serde::to_vec_named(value).map_err(|e| FormatError::Encode {
        kind: spec.kind,
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

/// Writes RGB pixels as a PNG file, atomically (charts, confusion matrices, face chips).
pub fn write_png(path: &Path, image: &crate::RgbImage) -> Result<(), FormatError> {
    let buffer = ::image::RgbImage::from_raw(image.width, image.height, image.pixels.clone())
        .expect("RgbImage holds width × height × 3 bytes");
    let mut png = std::io::Cursor::new(Vec::new());
    buffer
        .write_to(&mut png, ::image::ImageFormat::Png)
        .map_err(|e| FormatError::Encode {
            kind: "PNG",
            message: e.to_string(),
        })?;
    write_atomic(path, png.get_ref())
}

/// MessagePack bytes of `value` as a map (field names kept), the encoding every pipeline file uses.
pub fn to_msgpack<T: Serialize>(value: &T) -> Result<Vec<u8>, FormatError> {
    rmp_serde::to_vec_named(value).map_err(|e| FormatError::Encode {
        kind: "report",
        message: e.to_string(),
    })
}

/// Replaces `path` with `bytes` atomically (temporary file in the same folder + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let write_error = |source: std::io::Error| FormatError::Write {
        path: path.to_path_buf(),
        source,
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(write_error(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "the folder {} does not exist; create it first",
                parent.display()
            ),
        )));
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".")
        .suffix(".tmp")
        .tempfile_in(parent)
        .map_err(write_error)?;
    temp.write_all(bytes).map_err(write_error)?;
    // Temporary files are private (0600); the result gets the mode of the file it replaces, or the
    // usual 0644 for a new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(write_error)?;
    }
    temp.as_file().sync_all().map_err(write_error)?;
    temp.persist(path).map_err(|e| write_error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Point;

    fn sample() -> EncodingsFile {
        let mut embedding = [0f32; 128];
        embedding
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = i as f32 * 0.001 - 0.05);
        EncodingsFile::new(
            "test".into(),
            EncodeSettings {
                analysis: AnalysisSettings::default(),
                multi_face: MultiFacePolicy::Dominant,
                max_megapixels: 64,
                apply_exif_orientation: true,
            },
            vec![
                ImageRecord {
                    person: "나연".into(),
                    path: "나연/1.jpg".into(),
                    file_sha256: "ab".repeat(32),
                    file_size: 10,
                    outcome: Outcome::Encoded(EncodedFace {
                        bbox: BoundingBox::new(1, 2, 30, 40),
                        detection_score: 0.5,
                        landmarks: [Point { x: 1, y: 2 }; 5],
                        embedding: Embedding(embedding),
                        faces_found: 1,
                        image_width: 100,
                        image_height: 80,
                    }),
                },
                ImageRecord {
                    person: "Momo".into(),
                    path: "Momo/x.png".into(),
                    file_sha256: "cd".repeat(32),
                    file_size: 3,
                    outcome: Outcome::Rejected(Rejection::SeveralFaces { count: 3 }),
                },
            ],
        )
    }

    #[test]
    fn encodings_round_trip_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enc.msgpack");
        let file = sample();
        file.write(&path).unwrap();
        assert_eq!(EncodingsFile::read(&path).unwrap(), file);
        // No temporary files are left beside the output, and it is readable by others.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
    }

    #[test]
    fn newer_version_and_wrong_kind_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enc.msgpack");
        let mut file = sample();
        file.version = ENCODINGS_VERSION + 1;
        write_versioned(&path, &file, &ENCODINGS).unwrap();
        let err = EncodingsFile::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("newer version") && err.contains("enc.msgpack"),
            "{err}"
        );

        file.version = ENCODINGS_VERSION;
        file.kind = "facelabel-model".into();
        write_versioned(&path, &file, &ENCODINGS).unwrap();
        let err = EncodingsFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("facelabel-model"), "{err}");

        std::fs::write(&path, b"").unwrap();
        let err = EncodingsFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn write_into_missing_folder_names_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("enc.msgpack");
        let err = sample().write(&path).unwrap_err().to_string();
        assert!(
            err.contains("does not exist") && err.contains("missing"),
            "{err}"
        );
    }
}
