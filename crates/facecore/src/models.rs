//! Locating and verifying the model files (the catalogue is `facefile::models`).
//!
//! Each file is pinned by SHA-256: a truncated download or a different model would silently change
//! every embedding, so a mismatch is an error, and every output file names the models that made its
//! vectors so a later stage can refuse vectors of another model.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

pub use facefile::models::{ModelFile, FETCH_HINT};
use facefile::settings::AnalysisSettings;
use facefile::{DetectorKind, EmbedderKind};

use crate::error::ModelError;

/// A folder holding the model files. Files are verified on first use, once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    dir: PathBuf,
}

impl ModelDir {
    pub fn new(dir: impl Into<PathBuf>) -> ModelDir {
        ModelDir { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The verified path of a model file: it exists and its SHA-256 is the pinned one.
    pub fn verified(&self, file: ModelFile) -> Result<PathBuf, ModelError> {
        let path = self.dir.join(file.file_name());
        static VERIFIED: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
        let cache = VERIFIED.get_or_init(Default::default);
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if cache.lock().expect("model cache poisoned").contains(&key) {
            return Ok(path);
        }
        if !path.is_file() {
            return Err(ModelError::Missing {
                path,
                hint: FETCH_HINT,
            });
        }
        let actual = facefile::fs::sha256_file(&path).map_err(|cause| ModelError::Unreadable {
            path: path.clone(),
            cause,
        })?;
        if actual != file.sha256() {
            return Err(ModelError::Corrupt {
                path,
                actual,
                expected: file.sha256(),
                hint: FETCH_HINT,
            });
        }
        cache.lock().expect("model cache poisoned").insert(key);
        Ok(path)
    }

    /// Verifies every file `settings` needs, so a missing one is the first and only error.
    pub fn verify_for(&self, settings: &AnalysisSettings) -> Result<(), ModelError> {
        for file in needed(settings) {
            self.verified(file)?;
        }
        Ok(())
    }
}

/// The model files a detector and embedder combination loads.
pub fn needed(settings: &AnalysisSettings) -> Vec<ModelFile> {
    let mut files: Vec<ModelFile> = settings.embedder.files().to_vec();
    match settings.detection.detector {
        DetectorKind::Yunet => files.push(ModelFile::YunetDetector),
        DetectorKind::Cnn => files.push(ModelFile::DlibCnnDetector),
        DetectorKind::Hog => {}
    }
    if settings.embedder == EmbedderKind::Dlib {
        files.push(ModelFile::DlibLandmarks5);
    }
    files.sort_by_key(|f| f.file_name());
    files.dedup();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_names_file_and_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = ModelDir::new(dir.path())
            .verified(ModelFile::SfaceRecogniser)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("face_recognition_sface_2021dec.onnx") && err.contains("make models"),
            "{err}"
        );
    }

    #[test]
    fn corrupt_model_is_refused_with_both_hashes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(ModelFile::DlibEmbedding.file_name()),
            b"truncated",
        )
        .unwrap();
        let err = ModelDir::new(dir.path())
            .verified(ModelFile::DlibEmbedding)
            .unwrap_err()
            .to_string();
        assert!(err.contains("corrupt"), "{err}");
        assert!(err.contains(ModelFile::DlibEmbedding.sha256()), "{err}");
        assert!(
            err.contains(&facefile::fs::sha256_bytes(b"truncated")),
            "{err}"
        );
    }

    #[test]
    fn each_combination_needs_its_files() {
        let sface = needed(&AnalysisSettings::for_embedder(EmbedderKind::Sface));
        assert_eq!(
            sface,
            [ModelFile::YunetDetector, ModelFile::SfaceRecogniser]
        );
        let mut dlib = AnalysisSettings::for_embedder(EmbedderKind::Dlib);
        dlib.detection.detector = DetectorKind::Cnn;
        assert_eq!(
            needed(&dlib),
            [
                ModelFile::DlibEmbedding,
                ModelFile::DlibCnnDetector,
                ModelFile::DlibLandmarks5
            ]
        );
    }
}
