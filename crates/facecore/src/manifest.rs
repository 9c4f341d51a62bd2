//! `data/<person>/manifest.msgpack`: where each downloaded photo came from, so downloads resume
//! without fetching anything twice and every photo keeps its source and licence.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::FormatError;
use crate::format::{read_versioned, write_versioned, FileKind};

pub const MANIFEST_KIND: &str = "facelabel-manifest";
pub const MANIFEST_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.msgpack";

pub const MANIFEST: FileKind = FileKind {
    kind: MANIFEST_KIND,
    version: MANIFEST_VERSION,
    producer: "`downloader`",
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub kind: String,
    pub version: u32,
    pub person: String,
    /// The search query used.
    pub query: String,
    pub entries: Vec<ManifestEntry>,
    /// URLs that failed for good (not an image, too large, gone), so they are not tried again.
    pub failed: Vec<FailedUrl>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The file's name in the person's folder (`<first 16 hex of SHA-256>.<ext>`).
    pub file: String,
    pub url: String,
    /// `wikimedia`, `duckduckgo`, `bing` or `urls`.
    pub source: String,
    /// The page the image was found on, where known.
    pub page: Option<String>,
    /// Licence (Wikimedia Commons gives it), where known.
    pub licence: Option<String>,
    pub title: Option<String>,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedUrl {
    pub url: String,
    pub source: String,
    pub reason: String,
}

impl Manifest {
    pub fn new(person: &str, query: &str) -> Manifest {
        Manifest {
            kind: MANIFEST_KIND.into(),
            version: MANIFEST_VERSION,
            person: person.into(),
            query: query.into(),
            entries: Vec::new(),
            failed: Vec::new(),
        }
    }

    pub fn read(path: &Path) -> Result<Manifest, FormatError> {
        read_versioned(path, &MANIFEST)
    }

    pub fn write(&self, path: &Path) -> Result<(), FormatError> {
        write_versioned(path, self, &MANIFEST)
    }
}
