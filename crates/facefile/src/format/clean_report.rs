//! `data/clean-report.msgpack` (and `.json`): what the cleaner decided for every file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{finite, Format, Stamped};
use crate::embedding::EmbedderId;
use crate::settings::AnalysisSettings;

/// The file's name in the data folder.
pub const CLEAN_REPORT_FILE: &str = "clean-report.msgpack";

/// The clean-report file.
pub type CleanReportFile = Stamped<CleanReport>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanReport {
    pub data_dir: String,
    pub dry_run: bool,
    pub deleted_instead_of_quarantined: bool,
    /// The detection settings of the face checks, or `None` when they were skipped.
    pub face_checks: Option<AnalysisSettings>,
    pub people: BTreeMap<String, PersonSummary>,
    pub files: Vec<FileReport>,
    pub inspect_seconds: f64,
    pub files_per_second: f64,
}

impl Format for CleanReport {
    const KIND: &'static str = "facelabel-clean-report";
    const VERSION: u32 = 2;
    const PRODUCER: &'static str = "`cleaner`";

    fn validate(&self, _: Option<&EmbedderId>) -> Result<(), String> {
        finite("the inspection time", self.inspect_seconds)?;
        finite("the speed", self.files_per_second)
    }
}

/// The decision for a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Keep,
    Quarantine { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    pub person: String,
    /// Relative to the data folder, as it was when the cleaner started.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub format: Option<String>,
    pub faces: Option<usize>,
    pub action: Action,
    /// What was done to a kept file: `renamed to …` or `… converted to JPEG: …`.
    pub repair: Option<String>,
    /// For a human to look at; the file stays where it is.
    pub flags: Vec<String>,
    /// Where the file is now, when it moved (`None`: where it was, or deleted when so asked).
    pub now_at: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub files: usize,
    pub kept: usize,
    pub converted: usize,
    pub renamed: usize,
    pub quarantined: usize,
    pub flagged: usize,
}
