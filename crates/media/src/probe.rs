//! What ffprobe says about a media file: its streams (kind, codec, duration) and its duration
//! ([`probe`]); and of a video stream, what a decoder such as OpenCV's does not say, or says
//! wrongly: its base frame rate, its rotation, whether it has timing at all, and every frame's
//! time ([`video_stream`]).

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

/// Runs ffprobe with `options` on `path` (through `file:`) and returns what it said.
fn ffprobe(options: &[&str], path: &Path) -> Result<std::process::Output, MediaError> {
    tool("ffprobe")?
        .args(options)
        .arg(file_arg(path))
        .output()
        .map_err(|cause| MediaError::Spawn {
            tool: "ffprobe",
            cause,
        })
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
    let out = ffprobe(
        &[
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ],
        path,
    )?;
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

/// What ffprobe says of a video's first stream that a decoder such as OpenCV's does not (or says
/// wrongly).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoStream {
    /// The base frame rate: variable-rate frames are placed on its grid.
    pub frame_rate: Option<f64>,
    /// Clockwise degrees (0, 90, 180, 270) to show the stored frames upright, as ffmpeg does.
    pub rotation: u32,
    /// A raw elementary stream (MJPEG, H.264, …) with no timing of its own.
    pub raw: bool,
    /// The container's format name(s), e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub format: String,
}

/// Containers that carry no frame timing: FFmpeg substitutes 25 fps for them.
const RAW_FORMATS: &[&str] = &[
    "mjpeg",
    "mpjpeg",
    "h264",
    "hevc",
    "rawvideo",
    "m4v",
    "mjpeg_2000",
    "cavsvideo",
    "vc1",
];

/// The first video stream's facts and its frames' presentation times, in order (`None` when the
/// container does not give every one), from one run of ffprobe: each run costs a third of a second
/// on 2 cores before it reads anything. ffprobe failing is not an error here: what it could say
/// is returned, and the decoder has the last word on whether the file is a video.
pub fn video_stream(path: &Path) -> Result<(VideoStream, Option<Vec<f64>>), MediaError> {
    let out = ffprobe(
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=r_frame_rate:stream_side_data=rotation:format=format_name:packet=pts_time",
            "-of",
            "default=noprint_wrappers=1",
        ],
        path,
    )?;
    let answer = String::from_utf8_lossy(&out.stdout);
    let times = if out.status.success() {
        frame_times(&answer)
    } else {
        None
    };
    Ok((video_facts(&answer), times))
}

/// The stream's facts from ffprobe's `key=value` answer.
fn video_facts(answer: &str) -> VideoStream {
    let value = |key: &str| {
        answer
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .map(str::trim)
    };
    // ffmpeg's autorotate turns by minus the display matrix's rotation.
    let rotation = value("rotation")
        .and_then(|v| v.parse::<f64>().ok())
        .map(|degrees| (((-degrees / 90.0).round() as i64).rem_euclid(4) * 90) as u32)
        .unwrap_or(0);
    let format = value("format_name").unwrap_or_default().to_string();
    // "30000/1001": the stream's base rate, the highest its frames come at.
    let frame_rate = value("r_frame_rate").and_then(|v| {
        let (n, d) = v.split_once('/')?;
        let (n, d) = (n.parse::<f64>().ok()?, d.parse::<f64>().ok()?);
        (d > 0.0).then_some(n / d)
    });
    VideoStream {
        frame_rate,
        rotation,
        // `jpeg_pipe`, `png_pipe`, …: a stream of still pictures, no timing either.
        raw: RAW_FORMATS.contains(&format.as_str()) || format.ends_with("_pipe"),
        format,
    }
}

/// Every video packet's presentation time (`pts_time=` lines of ffprobe's `answer`), in order:
/// one per frame, read without decoding. `None` when one has no time.
fn frame_times(answer: &str) -> Option<Vec<f64>> {
    let mut times: Vec<f64> = answer
        .lines()
        .filter_map(|l| l.strip_prefix("pts_time="))
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    times.sort_by(f64::total_cmp);
    Some(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_times_are_read_from_among_the_stream_facts() {
        // ffprobe's one answer: the packets in stored order, then the stream's and container's facts.
        let answer = "pts_time=0.000000\npts_time=0.066667\npts_time=0.033333\n\
                      r_frame_rate=30/1\nrotation=90\nformat_name=mov,mp4,m4a,3gp,3g2,mj2\n";
        assert_eq!(
            frame_times(answer),
            Some(vec![0.0, 0.033333, 0.066667]),
            "in presentation order, the other lines left out"
        );
        let untimed = "pts_time=0.000000\npts_time=N/A\nr_frame_rate=25/1\n";
        assert_eq!(
            frame_times(untimed),
            None,
            "a packet without a time: the container's times are not used at all"
        );
    }

    #[test]
    fn the_streams_rate_rotation_and_timing_are_read_from_its_facts() {
        let facts = video_facts(
            "pts_time=0.0\nr_frame_rate=30000/1001\nrotation=-90\nformat_name=mov,mp4,m4a,3gp,3g2,mj2\n",
        );
        assert_eq!(
            facts.frame_rate.map(|r| (r * 1000.0).round()),
            Some(29970.0)
        );
        // Stored turned -90° (the display matrix says so): shown turned 90° clockwise.
        assert_eq!(facts.rotation, 90);
        assert!(!facts.raw);
        assert_eq!(video_facts("rotation=90\n").rotation, 270);
        assert_eq!(video_facts("rotation=180\n").rotation, 180);
        // No rate, no rotation, no format: nothing made up.
        let bare = video_facts("r_frame_rate=0/0\n");
        assert_eq!((bare.frame_rate, bare.rotation, bare.raw), (None, 0, false));
        // Formats without timing.
        assert!(video_facts("format_name=h264\n").raw);
        assert!(video_facts("format_name=jpeg_pipe\n").raw);
    }

    #[test]
    fn a_real_videos_facts_and_frame_times() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("clip, with a comma.mp4");
        crate::run_ffmpeg(
            &[
                "-loglevel".into(),
                "error".into(),
                "-f".into(),
                "lavfi".into(),
                "-i".into(),
                "testsrc=size=64x48:rate=10:duration=0.5".into(),
                "-c:v".into(),
                "mpeg4".into(),
                crate::file_arg(&video),
            ],
            &std::sync::atomic::AtomicBool::new(false),
        )
        .unwrap();
        let (facts, times) = video_stream(&video).unwrap();
        assert_eq!(facts.frame_rate, Some(10.0));
        assert_eq!(facts.rotation, 0);
        assert!(!facts.raw && facts.format.contains("mp4"), "{facts:?}");
        let times = times.expect("an mp4 times every frame");
        assert_eq!(times.len(), 5);
        assert!(
            times.windows(2).all(|w| (w[1] - w[0] - 0.1).abs() < 1e-6),
            "{times:?}"
        );
    }
}
