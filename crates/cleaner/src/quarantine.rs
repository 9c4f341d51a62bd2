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
    quarantine: facefile::quarantine::Quarantine,
    delete: bool,
}

impl Quarantine {
    pub fn new(data_dir: &Path, delete: bool) -> Quarantine {
        Quarantine {
            quarantine: facefile::quarantine::Quarantine::of(data_dir),
            delete,
        }
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
        let target = self
            .quarantine
            .move_in(path, person, reason)
            .with_context(|| format!("cannot move {} to the quarantine", path.display()))?;
        Ok(Some(target))
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
