//! `data/.quarantine/`: where photos that should not be used go instead of being deleted — moved
//! by the cleaner, written by the downloader when a download is not the person — with a log of why
//! (`log.tsv`: time, person, file, reason). A user moves a file back if it was a mistake.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The quarantine folder of a data folder.
pub const QUARANTINE_FOLDER: &str = ".quarantine";

/// A quarantine folder.
#[derive(Debug, Clone)]
pub struct Quarantine {
    root: PathBuf,
}

impl Quarantine {
    /// The quarantine of `data_dir` (`data_dir/.quarantine`).
    pub fn of(data_dir: &Path) -> Quarantine {
        Quarantine {
            root: data_dir.join(QUARANTINE_FOLDER),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A free path for `name` in the person's quarantine folder (never an existing file).
    fn free_path(&self, person: &str, name: &str) -> std::io::Result<PathBuf> {
        let folder = self.root.join(person);
        std::fs::create_dir_all(&folder)?;
        let mut target = folder.join(name);
        let mut n = 2;
        while target.symlink_metadata().is_ok() {
            target = folder.join(format!("{n}-{name}"));
            n += 1;
        }
        Ok(target)
    }

    /// Moves `path` (the directory entry itself: a link stays a link) into the person's
    /// quarantine folder and logs why; returns where it went.
    pub fn move_in(&self, path: &Path, person: &str, reason: &str) -> std::io::Result<PathBuf> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let target = self.free_path(person, &name)?;
        std::fs::rename(path, &target)?;
        self.log(person, &target, reason)?;
        Ok(target)
    }

    /// Writes `bytes` as `name` in the person's quarantine folder (atomically) and logs why.
    pub fn write_in(
        &self,
        bytes: &[u8],
        name: &str,
        person: &str,
        reason: &str,
    ) -> std::io::Result<PathBuf> {
        let target = self.free_path(person, name)?;
        crate::fs::write_atomic(&target, bytes).map_err(std::io::Error::other)?;
        self.log(person, &target, reason)?;
        Ok(target)
    }

    fn log(&self, person: &str, target: &Path, reason: &str) -> std::io::Result<()> {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let clean = |text: &str| text.replace(['\t', '\n', '\r'], " ");
        let line = format!(
            "{seconds}\t{}\t{}\t{}\n",
            clean(person),
            clean(
                &target
                    .strip_prefix(&self.root)
                    .unwrap_or(target)
                    .display()
                    .to_string()
            ),
            clean(reason)
        );
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("log.tsv"))
            .and_then(|mut log| log.write_all(line.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_go_in_under_free_names_and_are_logged() {
        let dir = tempfile::tempdir().unwrap();
        let quarantine = Quarantine::of(dir.path());
        let photo = dir.path().join("a.jpg");
        std::fs::write(&photo, b"1").unwrap();
        let first = quarantine
            .move_in(&photo, "Mina", "no face\tfound")
            .unwrap();
        let second = quarantine
            .write_in(b"2", "a.jpg", "Mina", "not her")
            .unwrap();
        assert_eq!(first, dir.path().join(".quarantine/Mina/a.jpg"));
        assert_eq!(second, dir.path().join(".quarantine/Mina/2-a.jpg"));
        assert!(!photo.exists());
        let log = std::fs::read_to_string(dir.path().join(".quarantine/log.tsv")).unwrap();
        assert_eq!(log.lines().count(), 2);
        assert!(log.contains("\tMina\tMina/a.jpg\tno face found\n"), "{log}");
    }
}
