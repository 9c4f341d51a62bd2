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
        match relinked(path) {
            // A link whose target is written relative to its folder would point nowhere one
            // folder deeper: the quarantined link points at the same file, by its full path.
            Some(pointee) => {
                std::os::unix::fs::symlink(&pointee, &target)?;
                if let Err(error) = std::fs::remove_file(path) {
                    let _ = std::fs::remove_file(&target);
                    return Err(error);
                }
            }
            None => std::fs::rename(path, &target)?,
        }
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

/// For a symbolic link with a relative target that resolves: the target's full path.
fn relinked(path: &Path) -> Option<PathBuf> {
    let metadata = path.symlink_metadata().ok()?;
    if !metadata.file_type().is_symlink() {
        return None;
    }
    let pointee = std::fs::read_link(path).ok()?;
    if pointee.is_absolute() {
        return None;
    }
    crate::fs::parent_or_dot(path)
        .join(pointee)
        .canonicalize()
        .ok()
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

    #[test]
    fn a_relative_link_keeps_pointing_at_its_photo() {
        let dir = tempfile::tempdir().unwrap();
        let photos = dir.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        std::fs::write(photos.join("real.jpg"), b"pixels").unwrap();
        let data = dir.path().join("data/Mina");
        std::fs::create_dir_all(&data).unwrap();
        let link = data.join("link.jpg");
        std::os::unix::fs::symlink("../../photos/real.jpg", &link).unwrap();
        let quarantine = Quarantine::of(&dir.path().join("data"));
        let moved = quarantine.move_in(&link, "Mina", "test").unwrap();
        assert!(moved.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&moved).unwrap(), b"pixels");
        assert!(link.symlink_metadata().is_err(), "the old link is gone");
        assert_eq!(std::fs::read(photos.join("real.jpg")).unwrap(), b"pixels");
    }
}
