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

/// Runs ffmpeg with `args` (quiet, overwriting), returning its error output on failure.
pub fn ffmpeg(args: &[OsString]) -> Result<()> {
    let out = tool("ffmpeg")?
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .context("cannot run ffmpeg")?;
    if !out.status.success() {
        bail!(
            "ffmpeg failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
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
