//! File-system promises shared by every stage: outputs are written atomically under a hidden
//! partial name and renamed only when complete, stale partial files of dead runs are cleaned up,
//! an output is never one of the inputs, and devices (`-o /dev/null`) are written, never replaced.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::FormatError;

/// The hidden file beside `target` that this process writes before renaming it:
/// `.NAME.partial-PID.EXT` (the extension is kept, as video writers choose the container from it).
pub fn partial_path(target: &Path) -> PathBuf {
    let parent = parent_or_dot(target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let extension = target
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    parent.join(format!(".{name}.partial-{}{extension}", std::process::id()))
}

/// The folder a path is in (`.` for a bare file name).
pub fn parent_or_dot(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Removes the partial files that earlier runs left beside `target` when they were killed (their
/// process no longer exists). Returns what was removed.
pub fn remove_stale_partials(target: &Path) -> Vec<PathBuf> {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    remove_partials_with_prefix(&parent_or_dot(target), &format!(".{name}.partial-"))
}

/// Removes every partial file of a dead process in `folder`, whatever it was to become (the
/// downloader names photos as it goes).
pub fn remove_stale_partials_in(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((start, _)) = name.split_once(".partial-") {
            if start.starts_with('.') {
                removed.extend(remove_partials_with_prefix(
                    folder,
                    &format!("{start}.partial-"),
                ));
            }
        }
    }
    removed
}

fn remove_partials_with_prefix(folder: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(prefix) else {
            continue;
        };
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let Ok(pid) = digits.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id()
            && !process_alive(pid)
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}

/// Whether a process with this id exists (signal 0 checks without sending anything).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for existence and permission; it has no effect.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// What kind of thing an output path names now.
enum Target {
    Missing,
    Regular,
    /// A character device or a FIFO (`/dev/null`, a pipe): written in place, never replaced.
    Stream,
    Folder,
    Other,
}

fn target_kind(path: &Path) -> Target {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path) {
        Err(_) => Target::Missing,
        Ok(m) if m.is_file() => Target::Regular,
        Ok(m) if m.is_dir() => Target::Folder,
        Ok(m) if m.file_type().is_char_device() || m.file_type().is_fifo() => Target::Stream,
        Ok(_) => Target::Other,
    }
}

/// Whether `path` is a device or FIFO that outputs are streamed into rather than replaced.
pub fn is_stream(path: &Path) -> bool {
    matches!(target_kind(path), Target::Stream)
}

/// Replaces `path` with `bytes` atomically: a hidden partial file in the same folder, flushed to
/// disk, then renamed over `path`. A crash, Ctrl-C or a full disk leaves the old file or the new
/// one, never half of one. A device or FIFO is written directly; a symbolic link is followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let write_error = |cause: std::io::Error| FormatError::Write {
        path: path.to_path_buf(),
        cause,
    };
    let path_buf;
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            path_buf = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            path_buf.as_path()
        }
        _ => path,
    };
    match target_kind(path) {
        Target::Stream => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(write_error)?;
            return file.write_all(bytes).map_err(write_error);
        }
        Target::Folder => {
            return Err(write_error(std::io::Error::other(
                "it is a folder; give a file name",
            )))
        }
        Target::Other => {
            return Err(write_error(std::io::Error::other(
                "it is not a regular file; give a file name",
            )))
        }
        Target::Missing | Target::Regular => {}
    }
    let parent = parent_or_dot(path);
    if !parent.is_dir() {
        return Err(write_error(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "the folder {} does not exist; create it first",
                parent.display()
            ),
        )));
    }
    remove_stale_partials(path);
    let partial = partial_path(path);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&partial)?;
        file.write_all(bytes)?;
        // The result gets the mode of the file it replaces, or the usual 0644 for a new file.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&partial, path)?;
        // Make the rename itself durable.
        if let Ok(folder) = std::fs::File::open(&parent) {
            let _ = folder.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.map_err(write_error)
}

/// Lower-case hex SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lower-case hex SHA-256 of bytes in memory.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// A path as the file it names: device and inode when it exists, else its canonical folder plus
/// its name (two spellings of a new file's path compare equal).
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Planned(PathBuf),
}

fn identity(path: &Path) -> Identity {
    use std::os::unix::fs::MetadataExt;
    if let Ok(m) = std::fs::metadata(path) {
        return Identity::Inode(m.dev(), m.ino());
    }
    let parent = parent_or_dot(path);
    let parent = std::fs::canonicalize(&parent).unwrap_or(parent);
    Identity::Planned(parent.join(path.file_name().unwrap_or_default()))
}

/// A named path given on the command line, e.g. `("--output", path)`.
pub type NamedPath<'a> = (&'a str, &'a Path);

/// Refuses an output that is one of the inputs or another output (by the file it names, so
/// `./a.mp4`, `a.mp4` and a hard link are the same). Devices such as `/dev/null` may be shared.
pub fn check_distinct(inputs: &[NamedPath], outputs: &[NamedPath]) -> Result<(), FormatError> {
    for (i, (flag, output)) in outputs.iter().enumerate() {
        if is_stream(output) {
            continue;
        }
        let id = identity(output);
        for (input_flag, input) in inputs {
            if identity(input) == id {
                return Err(FormatError::SamePath(format!(
                    "{flag} {} is the same file as {input_flag} {}: writing it would destroy the \
                     input; choose another name for {flag}",
                    output.display(),
                    input.display()
                )));
            }
        }
        for (other_flag, other) in &outputs[..i] {
            if identity(other) == id {
                return Err(FormatError::SamePath(format!(
                    "{flag} {} and {other_flag} {} are the same file; give each output its own name",
                    output.display(),
                    other.display()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_mode_and_leaves_nothing_beside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write_atomic(&path, b"one").unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn devices_are_written_not_replaced() {
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        assert!(is_stream(Path::new("/dev/null")));
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(dir.path(), b"x").unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
        let err = write_atomic(&dir.path().join("no/such/x"), b"x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn symlinked_outputs_replace_their_target() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.bin");
        std::fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.bin");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn stale_partials_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("labels.msgpack");
        // PID 2^22+1 is above Linux's pid_max default ceiling, so no process has it.
        let dead = dir.path().join(".labels.msgpack.partial-4194305.msgpack");
        let mine = partial_path(&target);
        let other = dir.path().join(".other.partial-4194305.msgpack");
        for p in [&dead, &mine, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        assert_eq!(remove_stale_partials(&target), vec![dead.clone()]);
        assert!(!dead.exists() && mine.exists() && other.exists());
        assert!(process_alive(std::process::id()));
    }

    #[test]
    fn outputs_that_are_inputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.mp4");
        std::fs::write(&input, b"x").unwrap();
        let hard = dir.path().join("hard.mp4");
        std::fs::hard_link(&input, &hard).unwrap();
        let dotted = dir.path().join(".").join("in.mp4");
        for output in [&input, &hard, &dotted] {
            let err = check_distinct(&[("--input", &input)], &[("--output", output)])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("--output") && err.contains("--input") && err.contains("destroy"),
                "{err}"
            );
        }
        let new = dir.path().join("new.mp4");
        let new_again = dir.path().join("./new.mp4");
        check_distinct(&[("--input", &input)], &[("--output", &new)]).unwrap();
        let err = check_distinct(&[], &[("--output", &new), ("--labels", &new_again)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("same file"), "{err}");
        check_distinct(
            &[("--input", &input)],
            &[
                ("--output", Path::new("/dev/null")),
                ("--labels", Path::new("/dev/null")),
            ],
        )
        .unwrap();
    }

    #[test]
    fn sha256_matches_known_vector() {
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
