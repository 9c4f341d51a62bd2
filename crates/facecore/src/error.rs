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
    #[error("cannot read model file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("dlib could not load model file {}: {message}", path.display())]
    Load { path: PathBuf, message: String },
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
        "image is {width}×{height} = {megapixels:.0} megapixels, above the limit of {limit_megapixels} \
         (a decompression bomb or a huge scan); shrink it or raise the limit"
    )]
    TooLarge {
        width: u64,
        height: u64,
        megapixels: f64,
        limit_megapixels: u64,
    },
    #[error("unsupported image format {0}")]
    Unsupported(String),
}

/// A pipeline file (encodings, model, labels) could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid {expected} file ({message}); regenerate it with {producer}", path.display())]
    Decode {
        path: PathBuf,
        expected: &'static str,
        producer: &'static str,
        message: String,
    },
    #[error(
        "{} is a {found:?} file, not a {expected} file; {producer} makes {expected} files",
        path.display()
    )]
    WrongKind {
        path: PathBuf,
        found: String,
        expected: &'static str,
        producer: &'static str,
    },
    #[error(
        "{} has format version {found}, but this build reads version {supported} of {kind} files; \
         {fix}",
        path.display()
    )]
    UnsupportedVersion {
        path: PathBuf,
        kind: &'static str,
        found: u32,
        supported: u32,
        fix: &'static str,
    },
    #[error("cannot encode {kind} data: {message}")]
    Encode { kind: &'static str, message: String },
}

/// Anything facecore can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{}: {source}", path.display())]
    Image {
        path: PathBuf,
        #[source]
        source: ImageError,
    },
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("worker pool: {0}")]
    Pool(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
