//! Incremental runs: the outcomes of the previous run (and of an interrupted one, kept in a
//! checkpoint beside the output), by file hash, when it used the same models and settings; and the
//! check that `--output` is an encodings file before it is replaced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use facefile::format::encodings::{EncodeSettings, Encodings, EncodingsFile, Outcome};

/// The previous run's outcomes by file SHA-256.
#[derive(Debug, Default)]
pub struct Previous(HashMap<String, Outcome>);

impl Previous {
    /// Reads `output` and its checkpoint, those that exist and were made with the same models and
    /// settings.
    pub fn load(output: &Path, settings: &EncodeSettings, quiet: bool) -> Previous {
        let mut previous = Previous::default();
        if facefile::fs::is_stream(output) {
            return previous;
        }
        let checkpoint = checkpoint_path(output);
        for file in [output, checkpoint.as_path()] {
            let resumed = previous.add(file, settings, quiet);
            if file == checkpoint && resumed > 0 && !quiet {
                eprintln!(
                    "note: resuming the interrupted run: {resumed} photos already encoded ({})",
                    file.display()
                );
            }
        }
        previous
    }

    /// Adds the outcomes recorded in `file`; how many.
    fn add(&mut self, file: &Path, settings: &EncodeSettings, quiet: bool) -> usize {
        if !file.exists() {
            return 0;
        }
        let recorded = match EncodingsFile::read(file) {
            Ok(recorded) => recorded,
            Err(error) => {
                eprintln!(
                    "warning: not reusing {}: {error}; its photos are encoded again",
                    file.display()
                );
                return 0;
            }
        };
        let same_models = recorded.embedder == Some(settings.analysis.embedder.id());
        // A build that stored the small views among the extra views wrote the same settings but
        // not the separate small views the trainer now needs.
        let small_views_missing = settings.small_views
            && recorded
                .body
                .images
                .iter()
                .filter_map(|record| record.face())
                .any(|face| face.small_views.is_empty());
        if !same_models || recorded.body.settings != *settings || small_views_missing {
            if !quiet {
                eprintln!(
                    "note: the embedding model or settings changed since {} was written; its \
                     photos are encoded again",
                    file.display()
                );
            }
            return 0;
        }
        let before = self.0.len();
        self.0.extend(
            recorded
                .body
                .images
                .into_iter()
                .filter(|record| !record.file_sha256.is_empty())
                .map(|record| (record.file_sha256, record.outcome)),
        );
        self.0.len() - before
    }

    pub fn get(&self, sha256: &str) -> Option<&Outcome> {
        self.0.get(sha256)
    }
}

/// Where an interrupted run keeps the photos it finished: `.<output name>.checkpoint` beside the
/// output, read back by the next run and removed once the output is written.
pub fn checkpoint_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "encodings".into());
    facefile::fs::parent_or_dot(output).join(format!(".{name}.checkpoint"))
}

/// Removes the checkpoint of `output`, if any (its entries are in the output now).
pub fn remove_checkpoint(output: &Path) {
    if facefile::fs::is_stream(output) {
        return;
    }
    let checkpoint = checkpoint_path(output);
    if checkpoint.exists() {
        if let Err(error) = std::fs::remove_file(&checkpoint) {
            eprintln!(
                "warning: cannot remove {}: {error}; delete it by hand",
                checkpoint.display()
            );
        }
    }
}

/// Whether `output` already holds exactly `file` (so it need not be written).
pub fn same_as_written(output: &Path, file: &EncodingsFile) -> bool {
    !facefile::fs::is_stream(output) && EncodingsFile::read(output).is_ok_and(|old| old == *file)
}

/// Refuses to replace an existing `output` that is not an encodings file (a model, a video, a
/// photo given by mistake) unless `force`.
pub fn check_output(output: &Path, force: bool) -> Result<()> {
    facefile::format::check_replaceable::<Encodings>(output, force).map_err(|e| anyhow::anyhow!(e))
}
