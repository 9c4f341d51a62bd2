//! Locating and verifying dlib's model files.
//!
//! The files come from PyPI's `face_recognition_models==0.3.0` sdist (see `scripts/fetch-models.sh`).
//! Each is pinned by SHA-256: a truncated download or a different model would silently change every
//! embedding, so a mismatch is an error, and the hashes are written into every output file so a later
//! stage can refuse embeddings that came from another model.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::error::ModelError;

/// Environment variable naming the models folder when `--models-dir` is not given.
pub const MODELS_DIR_ENV: &str = "FACE_MODELS_DIR";
/// Folder used when neither `--models-dir` nor `FACE_MODELS_DIR` is set (relative to the working directory).
pub const DEFAULT_MODELS_DIR: &str = "models";
/// What a user runs to fetch the models.
pub const FETCH_HINT: &str = "run `make models` (or `scripts/fetch-models.sh`) to fetch the models";

/// One of the four dlib model files shipped in `face_recognition_models` 0.3.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// The 128-d face embedding ResNet.
    FaceEmbedding,
    /// The 5-point landmark predictor used for alignment (what face_recognition's "small" model uses).
    Landmarks5,
    /// The 68-point landmark predictor.
    Landmarks68,
    /// The CNN (MMOD) face detector.
    CnnDetector,
}

impl ModelKind {
    pub const ALL: [ModelKind; 4] = [
        ModelKind::FaceEmbedding,
        ModelKind::Landmarks5,
        ModelKind::Landmarks68,
        ModelKind::CnnDetector,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            ModelKind::FaceEmbedding => "dlib_face_recognition_resnet_model_v1.dat",
            ModelKind::Landmarks5 => "shape_predictor_5_face_landmarks.dat",
            ModelKind::Landmarks68 => "shape_predictor_68_face_landmarks.dat",
            ModelKind::CnnDetector => "mmod_human_face_detector.dat",
        }
    }

    /// SHA-256 of the file in `face_recognition_models` 0.3.0.
    pub fn sha256(self) -> &'static str {
        match self {
            ModelKind::FaceEmbedding => {
                "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
            }
            ModelKind::Landmarks5 => {
                "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
            }
            ModelKind::Landmarks68 => {
                "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f"
            }
            ModelKind::CnnDetector => {
                "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6"
            }
        }
    }
}

/// A folder holding the model files. Files are verified on first use, once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    dir: PathBuf,
}

impl ModelDir {
    /// `--models-dir` if given, else `$FACE_MODELS_DIR`, else `models/`.
    pub fn locate(cli_dir: Option<&Path>) -> ModelDir {
        let dir = cli_dir
            .map(Path::to_path_buf)
            .or_else(|| {
                std::env::var_os(MODELS_DIR_ENV)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_MODELS_DIR));
        ModelDir { dir }
    }

    pub fn new(dir: impl Into<PathBuf>) -> ModelDir {
        ModelDir { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The verified path of a model file: it exists and its SHA-256 is the pinned one.
    pub fn verified(&self, kind: ModelKind) -> Result<PathBuf, ModelError> {
        let path = self.dir.join(kind.file_name());
        static VERIFIED: OnceLock<Mutex<HashMap<PathBuf, ()>>> = OnceLock::new();
        let cache = VERIFIED.get_or_init(Default::default);
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if cache
            .lock()
            .expect("model cache poisoned")
            .contains_key(&key)
        {
            return Ok(path);
        }
        if !path.is_file() {
            return Err(ModelError::Missing {
                path,
                hint: FETCH_HINT,
            });
        }
        let actual = sha256_file(&path).map_err(|source| ModelError::Unreadable {
            path: path.clone(),
            source,
        })?;
        if actual != kind.sha256() {
            return Err(ModelError::Corrupt {
                path,
                actual,
                expected: kind.sha256(),
                hint: FETCH_HINT,
            });
        }
        cache.lock().expect("model cache poisoned").insert(key, ());
        Ok(path)
    }
}

/// Lower-case hex SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lower-case hex SHA-256 of bytes in memory.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_prefers_cli_then_env_then_default() {
        let cli = ModelDir::locate(Some(Path::new("/x/models")));
        assert_eq!(cli.path(), Path::new("/x/models"));
    }

    #[test]
    fn missing_model_names_file_and_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = ModelDir::new(dir.path())
            .verified(ModelKind::Landmarks5)
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("shape_predictor_5_face_landmarks.dat"),
            "{message}"
        );
        assert!(message.contains("make models"), "{message}");
    }

    #[test]
    fn corrupt_model_is_refused_with_both_hashes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(ModelKind::FaceEmbedding.file_name()),
            b"truncated",
        )
        .unwrap();
        let err = ModelDir::new(dir.path())
            .verified(ModelKind::FaceEmbedding)
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("corrupt"), "{message}");
        assert!(
            message.contains(ModelKind::FaceEmbedding.sha256()),
            "{message}"
        );
        assert!(message.contains(&sha256_bytes(b"truncated")), "{message}");
    }

    #[test]
    fn sha256_matches_known_vector() {
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
