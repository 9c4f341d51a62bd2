//! The versioned MessagePack files the stages exchange, one module per format, all read and written
//! through [`Stamped`]: a map whose first keys are `kind` and `version` (checked before anything else
//! is decoded, so a wrong or newer file gets a message that says what to do), then `producer` (the
//! program that wrote it), `embedder` (the model behind any vectors in it) and the `body`.
//!
//! Reading is strict: trailing bytes, non-finite numbers and broken invariants are refused with the
//! file's name and the command that makes a good one. Writing is atomic ([`crate::fs::write_atomic`]).

pub mod clean_report;
pub mod encodings;
pub mod labels;
pub mod manifest;
pub mod model;
pub mod tracks;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::embedding::EmbedderId;
use crate::error::FormatError;
use crate::fs::write_atomic;

/// Whether `path` may be replaced by a `T` file: it does not exist, is not a regular file (a device,
/// written to as it is), is empty, or is already a `T` file (of any version, or damaged but
/// plainly one). Anything else — another pipeline file, a photo, a video — would be lost, so it is
/// refused unless `force`, with what it is.
pub fn check_replaceable<T: Format>(path: &Path, force: bool) -> Result<(), String> {
    if force || !path.is_file() {
        return Ok(());
    }
    let bytes = std::fs::read(path).unwrap_or_default();
    if bytes.is_empty() {
        return Ok(());
    }
    match rmp_serde::from_slice::<Probe>(&bytes) {
        Ok(probe) if probe.kind == T::KIND => Ok(()),
        Ok(probe) => Err(format!(
            "{} is a {} file, not a {} file: it would be replaced; give another file name, or \
             --force to replace it",
            path.display(),
            probe.kind,
            T::KIND
        )),
        Err(_) => {
            let looks_ours = bytes
                .windows(T::KIND.len())
                .take(64)
                .any(|w| w == T::KIND.as_bytes());
            if looks_ours {
                Ok(())
            } else {
                Err(format!(
                    "{} exists and is not a {} file: it would be replaced; give another file \
                     name, or --force to replace it",
                    path.display(),
                    T::KIND
                ))
            }
        }
    }
}

/// One kind of pipeline file.
pub trait Format: Serialize + DeserializeOwned {
    /// `kind` in the file, e.g. `facelabel-encodings`.
    const KIND: &'static str;
    /// The version this build writes and reads.
    const VERSION: u32;
    /// What makes it, for messages: e.g. "`encoder` (make encode)".
    const PRODUCER: &'static str;

    /// Checks what the types cannot (lengths, ranges, references between fields), given the
    /// embedder the header names.
    fn validate(&self, _embedder: Option<&EmbedderId>) -> Result<(), String> {
        Ok(())
    }
}

/// A pipeline file: the header every format shares, and the format's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped<T> {
    pub kind: String,
    pub version: u32,
    /// Program and version that wrote it, e.g. `encoder 0.2.0`.
    pub producer: String,
    /// The embedding model behind the vectors in the body (`None` for files without vectors).
    pub embedder: Option<EmbedderId>,
    pub body: T,
}

#[derive(Deserialize)]
struct Probe {
    kind: String,
    version: u32,
}

impl<T: Format> Stamped<T> {
    /// The one place a file's header is made.
    pub fn new(producer: impl Into<String>, embedder: Option<EmbedderId>, body: T) -> Stamped<T> {
        Stamped {
            kind: T::KIND.to_string(),
            version: T::VERSION,
            producer: producer.into(),
            embedder,
            body,
        }
    }

    pub fn read(path: &Path) -> Result<Stamped<T>, FormatError> {
        let bytes = std::fs::read(path).map_err(|cause| FormatError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// Decodes a file's bytes (`path` is for messages).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Stamped<T>, FormatError> {
        let decode_error = |message: String| FormatError::Decode {
            path: path.to_path_buf(),
            expected: T::KIND,
            producer: T::PRODUCER,
            message,
        };
        if bytes.is_empty() {
            return Err(decode_error("the file is empty".into()));
        }
        let probe: Probe = rmp_serde::from_slice(bytes).map_err(|e| decode_error(e.to_string()))?;
        if probe.kind != T::KIND {
            return Err(FormatError::WrongKind {
                path: path.to_path_buf(),
                found: probe.kind,
                expected: T::KIND,
                producer: T::PRODUCER,
            });
        }
        if probe.version != T::VERSION {
            return Err(FormatError::UnsupportedVersion {
                path: path.to_path_buf(),
                kind: T::KIND,
                found: probe.version,
                supported: T::VERSION,
                fix: if probe.version > T::VERSION {
                    "it was written by a newer version of this tool: update the tool"
                } else {
                    "it was written by an older version of this tool: regenerate it"
                },
            });
        }
        let mut deserializer = rmp_serde::Deserializer::new(std::io::Cursor::new(bytes));
        let file = Stamped::<T>::deserialize(&mut deserializer)
            .map_err(|e| decode_error(e.to_string()))?;
        let used = deserializer.position() as usize;
        if used != bytes.len() {
            return Err(decode_error(format!(
                "{} unexpected bytes after the end of the data",
                bytes.len() - used
            )));
        }
        if let Some(embedder) = &file.embedder {
            if embedder.dimension == 0 {
                return Err(decode_error("the embedder's dimension is 0".into()));
            }
        }
        file.body
            .validate(file.embedder.as_ref())
            .map_err(decode_error)?;
        Ok(file)
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> Result<(), FormatError> {
        write_atomic(path, &self.to_bytes()?)
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        rmp_serde::to_vec_named(self).map_err(|e| FormatError::Encode {
            kind: T::KIND,
            message: e.to_string(),
        })
    }

    /// The one embedder check: refuses vectors of another model than `expected`, with `fix` (what
    /// to re-run) in the message.
    pub fn require_embedder(
        &self,
        path: &Path,
        expected: &EmbedderId,
        fix: &str,
    ) -> Result<(), FormatError> {
        match &self.embedder {
            Some(found) if found == expected => Ok(()),
            found => Err(FormatError::EmbedderMismatch {
                path: path.to_path_buf(),
                found: found
                    .as_ref()
                    .map(EmbedderId::describe)
                    .unwrap_or_else(|| "no recorded".into()),
                expected: expected.describe(),
                fix: fix.to_string(),
            }),
        }
    }
}

/// Checks that a number read from a file is finite (NaN or infinity would poison every result).
pub fn finite(name: &str, value: f64) -> Result<(), String> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(format!("{name} is {value}, not a finite number"))
    }
}

/// Checks that embeddings have the dimension the header's embedder says.
pub fn check_dimension<'a>(
    embedder: Option<&EmbedderId>,
    embeddings: impl IntoIterator<Item = &'a crate::embedding::Embedding>,
) -> Result<(), String> {
    let Some(embedder) = embedder else {
        return Ok(());
    };
    let unit = embedder.kind().is_some_and(|kind| kind.unit_length());
    for embedding in embeddings {
        if embedding.dimension() != embedder.dimension as usize {
            return Err(format!(
                "an embedding has {} values, but the file's embedder ({}) makes {}",
                embedding.dimension(),
                embedder.name,
                embedder.dimension
            ));
        }
        // What the models make: SFace's vectors have unit length; dlib's values stay far below
        // 1 (a value of 1e30 is a damaged or forged file, and would dominate every distance).
        let values = embedding.values();
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        let plausible = if unit {
            (norm - 1.0).abs() <= 0.01
        } else {
            values.iter().all(|v| v.abs() <= MAX_EMBEDDING_VALUE)
        };
        if !plausible {
            return Err(format!(
                "an embedding is not one the {} model makes (length {norm:.3e})",
                embedder.name
            ));
        }
    }
    Ok(())
}

/// No value of a dlib embedding comes near this.
const MAX_EMBEDDING_VALUE: f32 = 4.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedding::EmbedderKind;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Note {
        text: String,
        value: f64,
    }

    impl Format for Note {
        const KIND: &'static str = "facelabel-note";
        const VERSION: u32 = 3;
        const PRODUCER: &'static str = "`notes`";
        fn validate(&self, _: Option<&EmbedderId>) -> Result<(), String> {
            finite("value", self.value)
        }
    }

    fn note(value: f64) -> Stamped<Note> {
        Stamped::new(
            "test 1.0",
            Some(EmbedderKind::Sface.id()),
            Note {
                text: "나연".into(),
                value,
            },
        )
    }

    #[test]
    fn round_trip_and_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.msgpack");
        note(1.5).write(&path).unwrap();
        let back = Stamped::<Note>::read(&path).unwrap();
        assert_eq!(back, note(1.5));
        assert_eq!((back.kind.as_str(), back.version), ("facelabel-note", 3));
    }

    #[test]
    fn wrong_kind_versions_trailing_bytes_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.msgpack");
        let mut file = note(1.0);
        file.version = 4;
        std::fs::write(&path, rmp_serde::to_vec_named(&file).unwrap()).unwrap();
        let err = Stamped::<Note>::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("newer version") && err.contains("n.msgpack"),
            "{err}"
        );
        file.version = 2;
        std::fs::write(&path, rmp_serde::to_vec_named(&file).unwrap()).unwrap();
        let err = Stamped::<Note>::read(&path).unwrap_err().to_string();
        assert!(err.contains("older version"), "{err}");
        file.version = 3;
        file.kind = "facelabel-model".into();
        std::fs::write(&path, rmp_serde::to_vec_named(&file).unwrap()).unwrap();
        let err = Stamped::<Note>::read(&path).unwrap_err().to_string();
        assert!(err.contains("facelabel-model"), "{err}");

        let mut bytes = note(1.0).to_bytes().unwrap();
        bytes.extend_from_slice(b"\x01\x02");
        std::fs::write(&path, &bytes).unwrap();
        let err = Stamped::<Note>::read(&path).unwrap_err().to_string();
        assert!(err.contains("2 unexpected bytes"), "{err}");

        note(f64::NAN).write(&path).unwrap();
        let err = Stamped::<Note>::read(&path).unwrap_err().to_string();
        assert!(err.contains("not a finite number"), "{err}");

        std::fs::write(&path, b"").unwrap();
        let err = Stamped::<Note>::read(&path).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn embedder_check_says_what_to_rerun() {
        let file = note(1.0);
        let path = Path::new("enc.msgpack");
        file.require_embedder(path, &EmbedderKind::Sface.id(), "x")
            .unwrap();
        let err = file
            .require_embedder(
                path,
                &EmbedderKind::Dlib.id(),
                "encode again with --embedder dlib",
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sface (128-d)")
                && err.contains("dlib (128-d)")
                && err.contains("--embedder dlib"),
            "{err}"
        );
    }
}
