//! Looking at one file: what it really is, its hashes, and (optionally) its faces.

use std::path::Path;

use facecore::dataset::Photo;
use facecore::{
    pick_subject, AnalysisSettings, DecodeOptions, Embedding, FaceAnalyzer, MultiFacePolicy,
};

/// What was found in a file.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub candidate: Photo,
    pub sha256: String,
    pub size: u64,
    pub content: Content,
}

#[derive(Debug, Clone)]
pub enum Content {
    /// Not a usable image; the reason.
    Broken(String),
    Image(ImageFacts),
}

#[derive(Debug, Clone)]
pub struct ImageFacts {
    pub format: &'static str,
    pub cmyk: bool,
    pub dhash: u64,
    /// `None` when face checks are off; boxed, as the embedding makes it large.
    pub faces: Option<Box<FaceFacts>>,
}

#[derive(Debug, Clone)]
pub struct FaceFacts {
    pub count: usize,
    /// The subject's embedding (one face, or a clearly dominant one).
    pub subject: Option<Embedding>,
}

pub fn inspect(
    candidate: Photo,
    analyzer: Option<&FaceAnalyzer>,
    settings: &AnalysisSettings,
) -> Inspection {
    let bytes = match std::fs::read(&candidate.path) {
        Ok(bytes) => bytes,
        Err(error) => {
            return Inspection {
                candidate,
                sha256: String::new(),
                size: 0,
                content: Content::Broken(format!("cannot read file: {error}")),
            }
        }
    };
    let sha256 = facecore::models::sha256_bytes(&bytes);
    let size = bytes.len() as u64;
    let content = match facecore::decode_bytes(&bytes, &DecodeOptions::default()) {
        Err(error) => Content::Broken(error.to_string()),
        Ok(decoded) => {
            let faces = analyzer.map(|analyzer| {
                let found = analyzer.analyze(&decoded.image, settings, false);
                let boxes: Vec<_> = found.iter().map(|(f, _)| f.bbox).collect();
                let subject =
                    pick_subject(&boxes, MultiFacePolicy::Dominant).map(|i| found[i].0.embedding);
                Box::new(FaceFacts {
                    count: found.len(),
                    subject,
                })
            });
            Content::Image(ImageFacts {
                format: decoded.format,
                cmyk: decoded.cmyk,
                dhash: facecore::difference_hash(&decoded.image),
                faces,
            })
        }
    };
    Inspection {
        candidate,
        sha256,
        size,
        content,
    }
}

/// The file's extension, lower case.
pub fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}
