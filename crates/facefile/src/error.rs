//! What reading and writing the pipeline's files can fail with. Each message names the file and
//! the command that makes a good one.

use std::path::PathBuf;

/// A pipeline file (encodings, model, labels, manifest, clean report) could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    // The I/O error is part of the message, not a separate source: printed once.
    #[error("cannot read {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot write {}: {cause}", path.display())]
    Write {
        path: PathBuf,
        cause: std::io::Error,
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
    #[error(
        "{} holds {found} embeddings, but {expected} ones are needed here; {fix}",
        path.display()
    )]
    EmbedderMismatch {
        path: PathBuf,
        found: String,
        expected: String,
        fix: String,
    },
    #[error("cannot encode {kind} data: {message}")]
    Encode { kind: &'static str, message: String },
    #[error("{0}")]
    SamePath(String),
}
