//! Finding the photos: `data/<person>/**/<file>`, the folder name being the label, verbatim.
//! Shared by the encoder and the cleaner, so both see the same files.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// The data folder could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "data folder {} does not exist; put each person's photos in {}/<person>/ (see data/README.md)",
        .0.display(), .0.display()
    )]
    Missing(PathBuf),
    #[error("cannot list {}: {cause}", path.display())]
    List {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// A file to encode.
#[derive(Debug, Clone)]
pub struct Photo {
    pub person: String,
    pub path: PathBuf,
    /// Relative to the folder scanned, `/`-separated (the key stored in the output).
    pub relative: String,
}

/// What was found under the data folder.
#[derive(Debug, Default)]
pub struct Scan {
    pub photos: Vec<Photo>,
    /// Person folders with no candidate file.
    pub empty_people: Vec<String>,
    /// Files directly in the data folder (not in a person folder), ignored.
    pub loose_files: Vec<PathBuf>,
    /// What was left out and why: symbolic links out of the data folder (never followed), link
    /// loops, second links to a file already included, folders that cannot be listed.
    pub skipped: Vec<String>,
}

/// Files that are pipeline metadata, notes or videos, not photos, even inside a person folder.
/// (Videos are never photos: a cleaner must not quarantine a user's video as "not an image".)
const NOT_PHOTOS: &[&str] = &[
    "msgpack", "json", "txt", "md", "csv", "tmp", "part", "html", "tsv", "mp4", "mkv", "mov",
    "avi", "webm", "m4v", "m4a", "mp3", "wav",
];

pub use facefile::layout::{STRANGERS_FOLDER, VIDEO_FOLDER};

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// Walks `data_dir`. Every non-hidden file in a person folder is a candidate, whatever its extension:
/// the decoder decides by content, and what it cannot read is reported, not skipped silently.
///
/// Symbolic links: a link to a photo is read wherever the photo is (a folder of links is how one
/// builds a dataset without copying; stages only ever move or remove the link itself, never what it
/// points to), but a link to a folder outside the data folder is not walked. Each file is taken once
/// however many links lead to it (the real path wins over a link), and a link loop is reported and
/// skipped rather than stopping the run.
pub fn scan(data_dir: &Path) -> Result<Scan, ScanError> {
    if !data_dir.is_dir() {
        return Err(ScanError::Missing(data_dir.to_path_buf()));
    }
    let list_error = |cause| ScanError::List {
        path: data_dir.to_path_buf(),
        cause,
    };
    let root = data_dir.canonicalize().map_err(list_error)?;
    let mut scan = Scan::default();
    let mut people: Vec<_> = std::fs::read_dir(data_dir)
        .map_err(list_error)?
        .collect::<Result<_, _>>()
        .map_err(list_error)?;
    people.sort_by_key(|entry| entry.file_name());
    // Canonical path → index in `scan.photos`, and whether that entry came through a link.
    let mut seen: std::collections::HashMap<PathBuf, (usize, bool)> = Default::default();
    for entry in people {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            scan.skipped.push(format!(
                "{} is not a valid UTF-8 name and cannot be a person's name; rename the folder",
                entry.path().display()
            ));
            continue;
        };
        if is_hidden(&name) || name == VIDEO_FOLDER {
            continue;
        }
        if name.chars().any(char::is_control) {
            scan.skipped.push(format!(
                "{:?} has a control character (a line break, a tab) in its name and cannot be a \
                 person's name; rename the folder",
                entry.path()
            ));
            continue;
        }
        let path = entry.path();
        if !path.is_dir() {
            if !is_note(&path) {
                scan.loose_files.push(path);
            }
            continue;
        }
        if !inside(&path, &root) {
            scan.skipped.push(format!(
                "{} links to a folder outside the data folder; such links are not walked",
                path.display()
            ));
            continue;
        }
        let before = scan.photos.len();
        let mut walker = WalkDir::new(&path)
            .min_depth(1)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !is_hidden(&e.file_name().to_string_lossy()));
        while let Some(entry) = walker.next() {
            if let Ok(found) = &entry {
                if found.path_is_symlink()
                    && found.file_type().is_dir()
                    && !inside(found.path(), &root)
                {
                    scan.skipped.push(format!(
                        "{} links to a folder outside the data folder; such links are not walked",
                        found.path().display()
                    ));
                    walker.skip_current_dir();
                    continue;
                }
            }
            let (file, via_link) = match entry {
                Ok(file) if file.file_type().is_file() => {
                    let via_link = file.path_is_symlink();
                    (file.into_path(), via_link)
                }
                Ok(_) => continue,
                Err(error) if error.loop_ancestor().is_some() => {
                    scan.skipped.push(format!(
                        "{} is a link loop (it leads back to {}); skipped",
                        error
                            .path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        error
                            .loop_ancestor()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    ));
                    continue;
                }
                // A broken link or a file that vanished: keep it, so it is reported as unreadable.
                Err(error)
                    if error
                        .io_error()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
                {
                    match error.path() {
                        Some(path) => (path.to_path_buf(), true),
                        None => continue,
                    }
                }
                Err(error) => {
                    scan.skipped.push(format!(
                        "cannot list {}: {error}; skipped",
                        error.path().unwrap_or(&path).display()
                    ));
                    continue;
                }
            };
            if is_note(&file) {
                continue;
            }
            if file
                .strip_prefix(data_dir)
                .is_ok_and(|p| p.to_str().is_none())
            {
                // Names are recorded as text; one that is not UTF-8 would be recorded wrongly.
                scan.skipped.push(format!(
                    "{} does not have a valid UTF-8 name; rename it to use it",
                    file.display()
                ));
                continue;
            }
            let relative = file
                .strip_prefix(data_dir)
                .expect("walked under data_dir")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let photo = Photo {
                person: name.clone(),
                path: file.clone(),
                relative,
            };
            let Ok(canonical) = file.canonicalize() else {
                scan.photos.push(photo);
                continue;
            };
            match seen.get(&canonical).copied() {
                None => {
                    seen.insert(canonical, (scan.photos.len(), via_link));
                    scan.photos.push(photo);
                }
                Some((index, earlier_via_link)) => {
                    // The same file twice: keep the real path over a link to it.
                    let (kept, dropped) = if earlier_via_link && !via_link {
                        let dropped = std::mem::replace(&mut scan.photos[index], photo);
                        seen.insert(canonical, (index, false));
                        (scan.photos[index].path.clone(), dropped.path)
                    } else {
                        (scan.photos[index].path.clone(), photo.path)
                    };
                    scan.skipped.push(format!(
                        "{} is a link to {}, which is already included; skipped",
                        dropped.display(),
                        kept.display()
                    ));
                }
            }
        }
        if scan.photos.len() == before {
            scan.empty_people.push(name);
        }
    }
    Ok(scan)
}

/// Whether `path` (followed through links) is inside `root` (canonical). Broken links count as
/// inside, so they are reported as unreadable files.
fn inside(path: &Path, root: &Path) -> bool {
    match path.canonicalize() {
        Ok(real) => real.starts_with(root),
        Err(_) => true,
    }
}

/// Whether a file in a person's folder is a candidate photo (not hidden, not a note, a video or
/// pipeline metadata): what the encoder and the cleaner look at, and what the downloader counts.
pub fn is_candidate(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .is_some_and(|n| is_hidden(&n.to_string_lossy()));
    !hidden && !is_note(path)
}

/// The candidate photos under one person's folder (sub-folders included, hidden ones skipped).
pub fn photos_in(person_dir: &Path) -> Vec<PathBuf> {
    WalkDir::new(person_dir)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_hidden(&e.file_name().to_string_lossy()))
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir() && is_candidate(e.path()))
        .map(|e| e.into_path())
        .collect()
}

fn is_note(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.starts_with("readme")
        || path
            .extension()
            .map(|e| NOT_PHOTOS.contains(&e.to_string_lossy().to_ascii_lowercase().as_str()))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_photos_and_what_is_not_a_photo() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        for file in [
            "나연/a.jpg",
            "나연/sub/b.png",
            "나연/.hidden.jpg",
            "나연/manifest.msgpack",
            "나연/clip.mp4",
            "Mina/x.webp",
            "empty/notes.txt",
            "video/input.mp4",
            ".quarantine/Mina/bad.jpg",
        ] {
            let path = data.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        std::fs::write(data.join("review.html"), b"x").unwrap();
        std::fs::write(data.join("stray.jpg"), b"x").unwrap();
        let scan = scan(data).unwrap();
        let found: Vec<(&str, &str)> = scan
            .photos
            .iter()
            .map(|p| (p.person.as_str(), p.relative.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("Mina", "Mina/x.webp"),
                ("나연", "나연/a.jpg"),
                ("나연", "나연/sub/b.png")
            ]
        );
        assert_eq!(scan.empty_people, ["empty"]);
        assert_eq!(scan.loose_files, [data.join("stray.jpg")]);
        assert!(matches!(
            super::scan(&data.join("nope")),
            Err(ScanError::Missing(_))
        ));
    }

    #[test]
    fn names_that_cannot_be_recorded_are_skipped_and_said() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        for folder in ["Mina", "Na\nyeon"] {
            std::fs::create_dir_all(data.join(folder)).unwrap();
            std::fs::write(data.join(folder).join("a.jpg"), b"x").unwrap();
        }
        let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
        std::fs::write(data.join("Mina").join(latin1), b"x").unwrap();
        let scan = scan(data).unwrap();
        let found: Vec<&str> = scan.photos.iter().map(|p| p.relative.as_str()).collect();
        assert_eq!(found, ["Mina/a.jpg"]);
        let skipped = scan.skipped.join("\n");
        assert!(skipped.contains("control character"), "{skipped}");
        assert!(skipped.contains("valid UTF-8"), "{skipped}");
    }

    #[test]
    fn links_stay_inside_are_taken_once_and_loops_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let outside = dir.path().join("outside");
        for file in ["Mina/a.jpg", "Mina/b.jpg"] {
            let path = data.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.jpg"), b"x").unwrap();
        let link =
            |target: &Path, at: &str| std::os::unix::fs::symlink(target, data.join(at)).unwrap();
        link(&data.join("Mina/a.jpg"), "Mina/0-link-to-a.jpg");
        link(&outside.join("secret.jpg"), "Mina/secret.jpg");
        link(&outside, "Mina/outside-folder");
        link(&data.join("Mina"), "Mina/loop");
        link(&outside, "Stranger");
        let scan = scan(&data).unwrap();
        let found: Vec<&str> = scan.photos.iter().map(|p| p.relative.as_str()).collect();
        // A linked photo is read where it is; a linked outside folder is not walked.
        assert_eq!(
            found,
            ["Mina/a.jpg", "Mina/b.jpg", "Mina/secret.jpg"],
            "{:?}",
            scan.skipped
        );
        let skipped = scan.skipped.join("\n");
        assert!(
            skipped.contains("0-link-to-a.jpg is a link to"),
            "{skipped}"
        );
        assert!(skipped.contains("link loop"), "{skipped}");
        assert!(
            skipped.contains("outside-folder links to a folder outside"),
            "{skipped}"
        );
        assert!(
            skipped.contains("Stranger links to a folder outside"),
            "{skipped}"
        );
    }
}
