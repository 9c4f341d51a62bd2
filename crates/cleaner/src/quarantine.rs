//! Carrying out decisions without ever losing a photo. The order is always: write and sync the new
//! file, put it in place, and only then move (or delete) the original; a crash or a full disk at any
//! point leaves the photo in the folder, in the quarantine, or both — never nowhere.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use facefile::format::clean_report::Action;

use crate::inspect::Inspection;
use crate::repair::{self, Repair};
use crate::report::FileEntry;

/// Where problem files go: `<data>/.quarantine/<person>/`, with a log of why; or nowhere with
/// `--delete`.
pub struct Quarantine {
    root: PathBuf,
    delete: bool,
}

impl Quarantine {
    pub fn new(root: PathBuf, delete: bool) -> Quarantine {
        Quarantine { root, delete }
    }

    /// Carries out one file's decision: quarantine (or delete), convert, or rename.
    pub fn apply(&self, entry: &mut FileEntry, file: &Inspection) -> Result<()> {
        let path = &file.candidate.path;
        let person = &file.candidate.person;
        let result = match (entry.action().clone(), entry.repair.clone()) {
            (Action::Quarantine { reason }, _) => self
                .set_aside(path, person, &reason)
                .map(|moved| entry.final_path = Some(moved)),
            (Action::Keep, Repair::None) => Ok(()),
            (Action::Keep, Repair::Rename { to }) => std::fs::rename(path, &to)
                .with_context(|| format!("cannot rename to {}", to.display()))
                .map(|()| entry.final_path = Some(Some(to))),
            (Action::Keep, Repair::Convert { to, why }) => self
                .convert(file, &to, &why)
                .map(|()| entry.final_path = Some(Some(to))),
        };
        result.with_context(|| format!("while cleaning {}", path.display()))
    }

    fn convert(&self, file: &Inspection, to: &Path, why: &str) -> Result<()> {
        let path = &file.candidate.path;
        let format = file.facts().expect("only images are converted").format;
        let pixels = repair::pixels(path, format)?;
        let jpeg = facecore::encode_jpeg(&pixels, 95)?;
        let reason = format!("original of {} ({why})", to.display());
        // The new file is written beside its place and renamed into it: a rename replaces the
        // directory entry itself, so a photo that is a link to a file elsewhere (a folder of
        // links to a read-only collection) never has its target written through.
        let partial = write_partial(to, &jpeg)?;
        let put_in_place = || {
            std::fs::rename(&partial, to)
                .with_context(|| format!("cannot move the converted photo to {}", to.display()))
        };
        if to == path.as_path() {
            // The JPEG takes the original's own name (a PNG named .jpg). With --delete, renaming
            // the finished JPEG over it is the whole change. Otherwise the original goes aside
            // first; a crash between the two steps leaves it in the quarantine.
            if !self.delete {
                self.set_aside(path, &file.candidate.person, &reason)?;
            }
            return put_in_place();
        }
        put_in_place()?;
        self.set_aside(path, &file.candidate.person, &reason)?;
        Ok(())
    }

    /// Moves a file to `<quarantine>/<person>/` (never overwriting) and logs why; or deletes it.
    /// Returns where it went (`None` when deleted).
    fn set_aside(&self, path: &Path, person: &str, reason: &str) -> Result<Option<PathBuf>> {
        if self.delete {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot delete {}", path.display()))?;
            return Ok(None);
        }
        let folder = self.root.join(person);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        let name = path
            .file_name()
            .context("no file name")?
            .to_string_lossy()
            .into_owned();
        let mut target = folder.join(&name);
        let mut n = 2;
        while target.exists() || target.symlink_metadata().is_ok() {
            target = folder.join(format!("{n}-{name}"));
            n += 1;
        }
        std::fs::rename(path, &target)
            .with_context(|| format!("cannot move to {}", target.display()))?;
        self.log(person, &target, reason)?;
        Ok(Some(target))
    }

    fn log(&self, person: &str, target: &Path, reason: &str) -> Result<()> {
        let log = self.root.join("log.tsv");
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
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .with_context(|| format!("cannot write {}", log.display()))
    }
}

/// Writes `bytes` to the hidden partial file beside `target`, synced, and returns its path.
fn write_partial(target: &Path, bytes: &[u8]) -> Result<PathBuf> {
    use std::io::Write;
    facefile::fs::remove_stale_partials(target);
    let partial = facefile::fs::partial_path(target);
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(error) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(error).with_context(|| format!("cannot write {}", target.display()));
    }
    Ok(partial)
}
