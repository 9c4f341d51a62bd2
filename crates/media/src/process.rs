//! Running ffmpeg and ffprobe with argument vectors (never a shell), so file names with spaces,
//! quotes, a leading dash or Hangul are passed as they are. Paths go through ffmpeg's `file:`
//! protocol, so a name starting with `-` is never read as an option, nor `http://…` as a URL.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};

/// What went wrong running a media tool.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{0} is not installed or does not run; install it with `apt-get install ffmpeg` (or `make deps`)")]
    Missing(&'static str),
    #[error("cannot run {tool}: {cause}")]
    Spawn {
        tool: &'static str,
        cause: std::io::Error,
    },
    #[error("ffmpeg failed: {0}")]
    Failed(String),
    #[error(
        "ffmpeg could not write its output although it exited normally (is the disk full?): {0}"
    )]
    NotWritten(String),
    #[error("interrupted: ffmpeg was stopped")]
    Interrupted,
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{path} is not a media file ffmpeg can read: {detail}")]
    Unreadable { path: String, detail: String },
}

/// `file:` + the path, as one argument.
pub fn file_arg(path: &Path) -> OsString {
    let mut arg = OsString::from("file:");
    arg.push(path.as_os_str());
    arg
}

/// A command for `name` (`ffmpeg`, `ffprobe`), once it is found on the `PATH`. Finding it is
/// enough to say before any work starts that it is missing; running `name -version` to check cost
/// a third of a second a time on 2 cores (ffmpeg loads some 250 libraries), and the labeler checked
/// twice per video. A tool that is there but does not run fails with its own message when used.
pub(crate) fn tool(name: &'static str) -> Result<Command, MediaError> {
    match std::env::var_os("PATH") {
        Some(path) if on_path(name, &path) => Ok(Command::new(name)),
        _ => Err(MediaError::Missing(name)),
    }
}

/// Whether an executable file `name` is in one of the folders of `path` (a `PATH` value).
fn on_path(name: &str, path: &std::ffi::OsStr) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path).any(|dir| {
        std::fs::metadata(dir.join(name))
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

/// What ffmpeg prints when its output could not be written (it may still exit 0).
const WRITE_FAILURES: &[&str] = &[
    "error writing trailer",
    "no space left",
    "error closing file",
    "av_interleaved_write_frame",
    "error muxing",
    "i/o error",
    "broken pipe",
];

/// Fails when ffmpeg's exit `status` or what it printed says the output was not written.
pub(crate) fn check_ffmpeg(
    status: std::process::ExitStatus,
    errors: &str,
) -> Result<(), MediaError> {
    let errors = errors.trim();
    if !status.success() {
        return Err(MediaError::Failed(if errors.is_empty() {
            format!("it exited with {status}")
        } else {
            errors.to_string()
        }));
    }
    let lower = errors.to_ascii_lowercase();
    if WRITE_FAILURES.iter().any(|sign| lower.contains(sign)) {
        return Err(MediaError::NotWritten(errors.to_string()));
    }
    Ok(())
}

/// An ffmpeg command (quiet, overwriting, errors only) whose process the kernel kills if this one
/// dies, even by SIGKILL.
pub(crate) fn ffmpeg_command() -> Result<Command, MediaError> {
    use std::os::unix::process::CommandExt;
    let mut command = tool("ffmpeg")?;
    command.args(["-hide_banner", "-loglevel", "error", "-y"]);
    // SAFETY: prctl is async-signal-safe and only sets this child's own parent-death signal.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(command)
}

/// Reads a child's standard error to the end on a thread of its own (so the child never blocks on
/// a full pipe).
pub(crate) fn collect_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    use std::io::Read;
    let mut stderr = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    })
}

/// Runs ffmpeg with `args` to the end and checks that it wrote its output. When `stop` is set, the
/// child is killed and reaped.
pub fn run_ffmpeg(args: &[OsString], stop: &AtomicBool) -> Result<(), MediaError> {
    let mut command = ffmpeg_command()?;
    command
        .arg("-nostdin")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().map_err(|cause| MediaError::Spawn {
        tool: "ffmpeg",
        cause,
    })?;
    let reader = collect_stderr(&mut child);
    let status = loop {
        if stop.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(MediaError::Interrupted);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(cause) => {
                return Err(MediaError::Spawn {
                    tool: "ffmpeg",
                    cause,
                })
            }
        }
    };
    check_ffmpeg(status, &reader.join().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn a_tool_is_found_only_as_an_executable_file_on_the_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let write = |name: &str, mode: u32| {
            let file = bin.join(name);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("ffmpeg", 0o755);
        write("ffprobe", 0o644);
        std::fs::create_dir(bin.join("ffplay")).unwrap();
        let path = std::env::join_paths([dir.path().join("elsewhere"), bin]).unwrap();
        assert!(on_path("ffmpeg", &path));
        assert!(!on_path("ffprobe", &path), "not executable");
        assert!(!on_path("ffplay", &path), "a folder");
        assert!(!on_path("x264", &path), "not there");
        assert!(!on_path("ffmpeg", std::ffi::OsStr::new("")));
    }

    #[test]
    fn a_trailer_that_was_not_written_is_a_failure_even_on_exit_0() {
        let ok = std::process::ExitStatus::from_raw(0);
        assert!(check_ffmpeg(ok, "").is_ok());
        let err = check_ffmpeg(
            ok,
            "[mp4 @ 0x1] Error writing trailer: No space left on device",
        )
        .unwrap_err();
        assert!(matches!(err, MediaError::NotWritten(_)), "{err}");
        let failed = std::process::ExitStatus::from_raw(1 << 8);
        assert!(
            matches!(check_ffmpeg(failed, ""), Err(MediaError::Failed(m)) if m.contains("exit"))
        );
    }
}
