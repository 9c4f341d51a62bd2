//! Error types. Each message names the file involved and, where there is one, the fix.

use std::path::PathBuf;

/// A model file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {} is missing; {hint}", path.display())]
    Missing { path: PathBuf, hint: &'static str },
    #[error(
        "model file {} is corrupt or not the expected model (SHA-256 {actual}, expected {expected}); \
         delete it and {hint}",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        actual: String,
        expected: &'static str,
        hint: &'static str,
    },
    #[error("cannot read model file {}: {cause}", path.display())]
    Unreadable {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("could not load model file {}: {message}", path.display())]
    Load { path: PathBuf, message: String },
    #[error("{0}")]
    Incompatible(String),
}

/// Why an image could not be decoded. The variants are stable reasons recorded in output files.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read file: {0}")]
    Unreadable(String),
    #[error("empty file (0 bytes)")]
    Empty,
    #[error("not an image: the content looks like {0}")]
    NotAnImage(String),
    #[error("truncated {format} (the file ends early, often an interrupted download)")]
    Truncated { format: String },
    #[error("corrupt {format}: {message}")]
    Corrupt { format: String, message: String },
    #[error(
        "image is {width}×{height} = {megapixels} megapixels, above the limit of {limit_megapixels} \
         (a decompression bomb or a huge scan); shrink it or raise --max-megapixels"
    )]
    TooLarge {
        width: u64,
        height: u64,
        /// Rounded up to two decimals, so a picture just over the limit never reads as equal to it.
        megapixels: String,
        limit_megapixels: u64,
    },
    #[error(
        "the {format} decoder refused it as too large to hold in memory ({message}): a \
         decompression bomb or a huge scan; shrink it"
    )]
    DecoderLimit { format: String, message: String },
    #[error("unsupported image format {0}")]
    Unsupported(String),
}

/// Face detection or embedding failed on a decoded picture (an OpenCV error: rare, and reported
/// as the photo's outcome rather than stopping a run).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("face analysis failed: {0}")]
pub struct AnalysisError(pub String);

impl From<opencv::Error> for AnalysisError {
    fn from(error: opencv::Error) -> AnalysisError {
        AnalysisError(error.message)
    }
}
