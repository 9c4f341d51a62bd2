//! What ffprobe says about a media file: its streams (kind, codec, duration) and its duration.

use std::path::Path;

use serde::Deserialize;

use crate::process::{file_arg, tool, MediaError};

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
    pub start_time: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Format {
    duration: Option<String>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
}

/// What ffprobe says about a media file.
#[derive(Debug)]
pub struct Media {
    pub streams: Vec<Stream>,
    pub duration: Option<f64>,
    /// The file's `comment` tag (what made it), when it has one.
    pub comment: Option<String>,
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

    /// When the stream's first frame or sample is shown (seconds; 0 when ffprobe says nothing).
    pub fn start_time(&self) -> f64 {
        self.start_time
            .as_deref()
            .and_then(|d| d.parse().ok())
            .filter(|t: &f64| t.is_finite())
            .unwrap_or(0.0)
    }
}
/// Probes `path` (through `file:`).
pub fn probe(path: &Path) -> Result<Media, MediaError> {
    let unreadable = |detail: String| MediaError::Unreadable {
        path: path.display().to_string(),
        detail,
    };
    if !path.is_file() {
        return Err(MediaError::NotFound(path.display().to_string()));
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
        .map_err(|cause| MediaError::Spawn {
            tool: "ffprobe",
            cause,
        })?;
    if !out.status.success() {
        return Err(unreadable(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let parsed: ProbeOutput = serde_json::from_slice(&out.stdout)
        .map_err(|e| unreadable(format!("ffprobe's answer could not be read ({e})")))?;
    let comment = parsed.format.as_ref().and_then(|f| {
        f.tags
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("comment"))
            .map(|(_, value)| value.clone())
    });
    Ok(Media {
        duration: parsed
            .format
            .and_then(|f| f.duration)
            .and_then(|d| d.parse().ok()),
        streams: parsed.streams,
        comment,
    })
}
