//! Looking at one file: what it really is, its hashes, and (optionally) its faces — through
//! `facecore::examine`, the same routine the encoder uses, with the same settings.

use std::path::Path;

use facecore::dataset::Photo;
use facecore::photo::{FaceFindings, ImageFacts};
use facecore::{ExamineOptions, Examined, FaceAnalyzer};
use facefile::Embedding;

/// A file and what was found in it.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub candidate: Photo,
    pub examined: Examined,
}

impl Inspection {
    pub fn sha256(&self) -> &str {
        &self.examined.sha256
    }

    /// The decoded image's facts, or `None` when the file is not a usable image.
    pub fn facts(&self) -> Option<&ImageFacts> {
        self.examined.content.as_ref().ok()
    }

    /// Why the file is not a usable image.
    pub fn broken(&self) -> Option<&str> {
        self.examined.content.as_ref().err().map(String::as_str)
    }

    pub fn faces(&self) -> Option<&FaceFindings> {
        self.facts()?.faces.as_ref()
    }

    /// The embedding of the photo's subject (one face, or a clearly dominant one).
    pub fn subject(&self) -> Option<&Embedding> {
        self.faces()?.subject.as_ref().map(|face| &face.embedding)
    }
}

pub fn inspect(
    candidate: Photo,
    analyzer: Option<&mut FaceAnalyzer>,
    options: &ExamineOptions,
) -> Inspection {
    let examined = match std::fs::read(&candidate.path) {
        Ok(bytes) => facecore::examine(&bytes, analyzer, options),
        Err(error) => Examined {
            sha256: String::new(),
            size: 0,
            content: Err(format!("cannot read file: {error}")),
        },
    };
    Inspection {
        candidate,
        examined,
    }
}

/// The file's extension, lower case.
pub fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}
