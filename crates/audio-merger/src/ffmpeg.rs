//! Running ffmpeg and ffprobe with argument vectors (never a shell), so file names with spaces,
//! quotes, a leading dash or Hangul are passed as they are. Paths go through ffmpeg's `file:`
//! protocol, so a name starting with `-` is never read as an option.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// `file:` + the path, as one argument.
pub fn file_arg(path: &Path) -> OsString {
    let mut arg = OsString::from("file:");
    arg.push(path.as_os_str());
    arg
}

fn tool(name: &str) -> Result<Command> {
    match Command::new(name).arg("-version").output() {
        Ok(out) if out.status.success() => Ok(Command::new(name)),
        _ => bail!("{name} is not installed or does not run; install it with `apt-get install ffmpeg` (or `make deps`)"),
    }
}

/// What ffmpeg prints when its output could not be written (it may still exit 0).
const WRITE_FAILURES: &[&str] = &[
    "error writing trailer",
    "no space left",
    "error closing file",
    "av_interleaved_write_frame",
    "error muxing",
    "i/o error",
];

/// Runs ffmpeg with `args` (quiet, overwriting), returning its error output on failure.
///
/// ffmpeg 5.1 can exit 0 after failing to write a file's trailer (a full disk), so any error it
/// prints counts as a failure too. The child never outlives this process: it is killed and reaped
/// on Ctrl-C, and the kernel kills it if this process dies (even by SIGKILL).
pub fn ffmpeg(args: &[OsString]) -> Result<()> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut command = tool("ffmpeg")?;
    command
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    // SAFETY: prctl is async-signal-safe and only sets this child's own parent-death signal.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().context("cannot run ffmpeg")?;
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = loop {
        if cli::interrupted() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("interrupted: ffmpeg was stopped");
        }
        match child.try_wait().context("waiting for ffmpeg")? {
            Some(status) => break status,
            None => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    let errors = reader.join().unwrap_or_default();
    let errors = errors.trim();
    if !status.success() {
        bail!("ffmpeg failed: {errors}");
    }
    let lower = errors.to_ascii_lowercase();
    if WRITE_FAILURES.iter().any(|sign| lower.contains(sign)) {
        bail!("ffmpeg could not write its output although it exited normally (is the disk full?): {errors}");
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct ProbeOutput {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct Stream {
    pub codec_type: String,
    pub codec_name: Option<String>,
    pub duration: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Format {
    duration: Option<String>,
}

/// What ffprobe says about a media file.
#[derive(Debug)]
pub struct Media {
    pub streams: Vec<Stream>,
    pub duration: Option<f64>,
}

impl Media {
    pub fn first(&self, kind: &str) -> Option<&Stream> {
        self.streams.iter().find(|s| s.codec_type == kind)
    }
}

impl Stream {
    pub fn duration(&self) -> Option<f64> {
        self.duration.as_deref().and_then(|d| d.parse().ok())
    }
}
pub fn probe(path: &Path) -> Result<Media> {
    if !path.is_file() {
        bail!("{} does not exist", path.display());
    }
    let out = tool("ffprobe")?
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(file_arg(path))
        .output()
        .context("cannot run ffprobe")?;
    if !out.status.success() {
        bail!(
            "{} is not a media file ffmpeg can read: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let parsed: ProbeOutput =
        serde_json::from_slice(&out.stdout).context("reading ffprobe's answer")?;
    Ok(Media {
        duration: parsed
            .format
            .and_then(|f| f.duration)
            .and_then(|d| d.parse().ok()),
        streams: parsed.streams,
    })
}
