//! Incremental runs: the outcomes of the previous run, by file hash, when it used the same models
//! and settings; and the check that `--output` is an encodings file before it is replaced.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Result};
use facefile::format::encodings::{EncodeSettings, Encodings, EncodingsFile, Outcome};
use facefile::{Format, FormatError};

/// The previous run's outcomes by file SHA-256.
#[derive(Debug, Default)]
pub struct Previous(HashMap<String, Outcome>);

impl Previous {
    /// Reads `output` if it exists and was made with the same models and settings.
    pub fn load(output: &Path, settings: &EncodeSettings, quiet: bool) -> Previous {
        if !output.exists() || facefile::fs::is_stream(output) {
            return Previous::default();
        }
        let previous = match EncodingsFile::read(output) {
            Ok(previous) => previous,
            Err(error) => {
                eprintln!(
                    "warning: not reusing {}: {error}; every photo is encoded again",
                    output.display()
                );
                return Previous::default();
            }
        };
        let same_models = previous.embedder == Some(settings.analysis.embedder.id());
        if !same_models || previous.body.settings != *settings {
            if !quiet {
                eprintln!(
                    "note: the embedding model or settings changed since {} was written; every \
                     photo is encoded again",
                    output.display()
                );
            }
            return Previous::default();
        }
        Previous(
            previous
                .body
                .images
                .into_iter()
                .filter(|record| !record.file_sha256.is_empty())
                .map(|record| (record.file_sha256, record.outcome))
                .collect(),
        )
    }

    pub fn get(&self, sha256: &str) -> Option<&Outcome> {
        self.0.get(sha256)
    }
}

/// Whether `output` already holds exactly `file` (so it need not be written).
pub fn same_as_written(output: &Path, file: &EncodingsFile) -> bool {
    !facefile::fs::is_stream(output) && EncodingsFile::read(output).is_ok_and(|old| old == *file)
}

/// Refuses to replace an existing `output` that is not an encodings file (a model, a video, a
/// photo given by mistake) unless `force`.
pub fn check_output(output: &Path, force: bool) -> Result<()> {
    if force || !output.is_file() {
        return Ok(());
    }
    match EncodingsFile::read(output) {
        Ok(_) | Err(FormatError::UnsupportedVersion { .. }) | Err(FormatError::Read { .. }) => {
            Ok(())
        }
        Err(FormatError::WrongKind { found, .. }) => bail!(
            "{} is a {found:?} file, not an encodings file: it would be replaced; give another \
             --output, or --force to replace it",
            output.display()
        ),
        Err(error) => {
            // Not ours at all, or damaged: only an empty file or one that starts as ours may go.
            let bytes = std::fs::read(output).unwrap_or_default();
            let looks_ours = bytes.is_empty()
                || bytes
                    .windows(Encodings::KIND.len())
                    .take(64)
                    .any(|w| w == Encodings::KIND.as_bytes());
            if looks_ours {
                Ok(())
            } else {
                bail!(
                    "{} exists and is not an encodings file ({error}): it would be replaced; give \
                     another --output, or --force to replace it",
                    output.display()
                )
            }
        }
    }
}
