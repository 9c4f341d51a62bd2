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
    #[error("cannot list {}: {source}", path.display())]
    List {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A file to encode.
#[derive(Debug, Clone)]
pub struct Photo {
    pub person: String,
    pub path: PathBuf,
    /// Relative to the data folder, `/`-separated (the key stored in the output).
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
}

/// Files that are pipeline metadata, notes or videos, not photos, even inside a person folder.
/// (Videos are never photos: a cleaner must not quarantine a user's video as "not an image".)
const NOT_PHOTOS: &[&str] = &[
    "msgpack", "json", "txt", "md", "csv", "tmp", "part", "html", "tsv", "mp4", "mkv", "mov",
    "avi", "webm", "m4v", "m4a", "mp3", "wav",
];

/// A folder of `data/` that is not a person: where `make all` looks for the video to label.
pub const VIDEO_FOLDER: &str = "video";

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// Walks `data_dir`. Every non-hidden file in a person folder is a candidate, whatever its extension:
/// the decoder decides by content, and what it cannot read is reported, not skipped silently.
pub fn scan(data_dir: &Path) -> Result<Scan, ScanError> {
    if !data_dir.is_dir() {
        return Err(ScanError::Missing(data_dir.to_path_buf()));
    }
    let list_error = |source| ScanError::List {
        path: data_dir.to_path_buf(),
        source,
    };
    let mut scan = Scan::default();
    let mut people: Vec<_> = std::fs::read_dir(data_dir)
        .map_err(list_error)?
        .collect::<Result<_, _>>()
        .map_err(list_error)?;
    people.sort_by_key(|entry| entry.file_name());
    for entry in people {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_hidden(&name) || name == VIDEO_FOLDER {
            continue;
        }
        let path = entry.path();
        if !path.is_dir() {
            if !is_note(&path) {
                scan.loose_files.push(path);
            }
            continue;
        }
        let before = scan.photos.len();
        let walker = WalkDir::new(&path)
            .min_depth(1)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !is_hidden(&e.file_name().to_string_lossy()));
        for entry in walker {
            let file = match entry {
                Ok(file) if file.file_type().is_file() => file.into_path(),
                Ok(_) => continue,
                // A broken link or a file that vanished: keep it, so it is reported as unreadable.
                Err(error)
                    if error
                        .io_error()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
                {
                    match error.path() {
                        Some(path) => path.to_path_buf(),
                        None => continue,
                    }
                }
                Err(error) => {
                    return Err(ScanError::List {
                        path: path.clone(),
                        source: error.into(),
                    });
                }
            };
            if is_note(&file) {
                continue;
            }
            let relative = file
                .strip_prefix(data_dir)
                .expect("walked under data_dir")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            scan.photos.push(Photo {
                person: name.clone(),
                path: file,
                relative,
            });
        }
        if scan.photos.len() == before {
            scan.empty_people.push(name);
        }
    }
    Ok(scan)
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
}
