//! `data/<person>/manifest.msgpack`: where each downloaded photo came from, so downloads resume
//! without fetching anything twice and every photo keeps its source, licence and author.

use serde::{Deserialize, Serialize};

use super::{Format, Stamped};
use crate::embedding::EmbedderId;

/// The file's name in each person's folder.
pub const MANIFEST_FILE: &str = "manifest.msgpack";

/// The manifest file.
pub type ManifestFile = Stamped<Manifest>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub person: String,
    /// The search query used.
    pub query: String,
    pub entries: Vec<ManifestEntry>,
    /// URLs that failed, with whether for good (not an image, too large, gone: never tried
    /// again) or for now (refused, rate limited: tried again on the next run).
    pub failed: Vec<FailedUrl>,
    /// The Wikidata item the person was resolved to, when there is one (absent from manifests of
    /// earlier versions, read as none).
    #[serde(default)]
    pub item: Option<String>,
}

impl Format for Manifest {
    const KIND: &'static str = "facelabel-manifest";
    const VERSION: u32 = 2;
    const PRODUCER: &'static str = "`downloader`";

    fn validate(&self, _: Option<&EmbedderId>) -> Result<(), String> {
        // Entries name files in the person's own folder, nothing else.
        if let Some(bad) = self.entries.iter().find(|e| {
            e.file.is_empty()
                || e.file.contains(['/', '\\', '\0'])
                || e.file == "."
                || e.file == ".."
        }) {
            return Err(format!(
                "the entry {:?} is not a file name in the person's folder",
                bad.file
            ));
        }
        let mut files: Vec<&str> = self.entries.iter().map(|e| e.file.as_str()).collect();
        files.sort_unstable();
        if let Some(pair) = files.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("the photo {} is listed twice", pair[0]));
        }
        Ok(())
    }
}

impl Manifest {
    pub fn new(person: &str, query: &str) -> Manifest {
        Manifest {
            person: person.into(),
            query: query.into(),
            entries: Vec::new(),
            failed: Vec::new(),
            item: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The file's name in the person's folder (`<first 16 hex of SHA-256>.<ext>`).
    pub file: String,
    pub url: String,
    /// `wikimedia`, `bing`, `duckduckgo` or `urls`.
    pub source: String,
    /// The page the image was found on, where known.
    pub page: Option<String>,
    /// Licence (Wikimedia Commons gives it), where known.
    pub licence: Option<String>,
    /// Author or credit line, where known.
    pub author: Option<String>,
    pub title: Option<String>,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedUrl {
    pub url: String,
    pub source: String,
    pub reason: String,
    /// Failed for good (skipped on later runs); otherwise tried again. Manifests from before this
    /// field lack it: their failures are tried once more.
    #[serde(default)]
    pub permanent: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(file: &str) -> ManifestEntry {
        ManifestEntry {
            file: file.into(),
            url: "https://example.org/a.jpg".into(),
            source: "urls".into(),
            page: None,
            licence: None,
            author: None,
            title: None,
            sha256: "ab".repeat(32),
            size: 1,
        }
    }

    #[test]
    fn entries_name_files_in_the_persons_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.msgpack");
        for bad in ["../../../..", "a/b.jpg", "..", "", "x\\y.jpg"] {
            let mut manifest = Manifest::new("Mina", "TWICE Mina");
            manifest.entries.push(entry(bad));
            Stamped::new("test", None, manifest).write(&path).unwrap();
            let err = ManifestFile::read(&path).unwrap_err().to_string();
            assert!(
                err.contains("not a file name in the person's folder"),
                "{bad:?}: {err}"
            );
        }
        let mut manifest = Manifest::new("Mina", "TWICE Mina");
        manifest.entries.push(entry("0123456789abcdef.jpg"));
        Stamped::new("test", None, manifest).write(&path).unwrap();
        assert!(ManifestFile::read(&path).is_ok());
    }
}
