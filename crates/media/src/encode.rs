//! A video encoder in a child ffmpeg, fed raw frames through a pipe: the encoder's speed and
//! quality are the user's to choose (x264's preset and CRF), the file plays in browsers (H.264,
//! yuv420p, the index at the front), and the encoding runs in its own process, beside the work
//! that makes the frames.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};

use crate::process::{check_ffmpeg, collect_stderr, ffmpeg_command, file_arg, MediaError};

/// The video codec and its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum Codec {
    /// H.264 through x264: `preset` (ultrafast … veryslow) trades speed for size, `crf` is the
    /// quality (lower is better; 18 looks lossless, 23 is x264's default). With `sliced_threads`
    /// x264's threads share each frame instead of each encoding a frame of its own: less memory
    /// (see [`SLICED_THREADS`]) for a little speed.
    H264 {
        preset: String,
        crf: u8,
        sliced_threads: bool,
    },
    /// MPEG-4 part 2 (mp4v): quick to encode, larger files, plays in fewer browsers.
    Mpeg4 { quality: u8 },
}

/// The layout of the frames sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 3 bytes a pixel, blue green red (OpenCV's order).
    Bgr24,
    /// 4:2:0 planar (Y, then U and V at half size; even sizes): half the bytes of BGR, and what
    /// H.264 stores, so ffmpeg has no conversion to do.
    Yuv420p,
}

impl PixelFormat {
    fn name(self) -> &'static str {
        match self {
            PixelFormat::Bgr24 => "bgr24",
            PixelFormat::Yuv420p => "yuv420p",
        }
    }

    /// Bytes of one `width`×`height` frame.
    pub fn frame_bytes(self, width: u32, height: u32) -> usize {
        let pixels = width as usize * height as usize;
        match self {
            PixelFormat::Bgr24 => pixels * 3,
            PixelFormat::Yuv420p => pixels * 3 / 2,
        }
    }
}

/// How to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderSettings {
    pub codec: Codec,
    pub input: PixelFormat,
    /// The first frame's presentation time (seconds): the output keeps the input's start, so the
    /// original sound put back later stays in sync.
    pub start_time: f64,
    /// Written as the file's `comment` tag (what made it), when given.
    pub comment: Option<String>,
}

/// x264's presets, fastest first.
pub const X264_PRESETS: &[&str] = &[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
];

/// The presets meant for encoding as fast as frames come; the slower ones are chosen for smaller
/// files and keep all of x264's own settings.
const REAL_TIME_PRESETS: &[&str] = &["ultrafast", "superfast", "veryfast", "faster"];

/// x264 holds every frame it looks ahead at, several planes each: at 1080p each frame of
/// look-ahead costs ~6 MB. Five frames (veryfast's own is 10, faster's 20): measured at 1080p,
/// veryfast CRF 21, the encoder's memory falls from 272 to 238 MB, for ~3 % more bytes at the same
/// SSIM and no loss of speed. Also giving up the look-ahead thread's own frames
/// (`sync-lookahead=0`) saves 30 MB more but costs a sixth of the speed. (ultrafast and superfast
/// do not look ahead; this changes nothing there.)
const SHORT_LOOKAHEAD: &str = "rc-lookahead=5";

/// With threads on frames, each x264 thread holds a frame being encoded and the look-ahead thread
/// frames of its own; on slices, the threads encode one frame together. Measured at 1080p,
/// veryfast CRF 21, 2 threads, the 22 s TWICE bench video: ffmpeg decoding and encoding peaks at
/// 225 MB instead of 274, the file is 0.1 % smaller at an SSIM 0.0001 lower, and it runs
/// ~5-10 % slower (the threads wait for each other at every frame, and the look-ahead joins
/// them).
pub const SLICED_THREADS: &str = "sliced-threads=1";

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("a frame of {got} bytes, not the {expected} of a {width}×{height} frame")]
    FrameSize {
        got: usize,
        expected: usize,
        width: u32,
        height: u32,
    },
    #[error("the encoder stopped taking frames: {0}")]
    Stopped(String),
}

/// A running encoder writing one file.
pub struct Encoder {
    child: Child,
    stdin: Option<ChildStdin>,
    errors: Option<std::thread::JoinHandle<String>>,
    width: u32,
    height: u32,
    input: PixelFormat,
    frames: u64,
}

impl Encoder {
    /// Starts ffmpeg writing `output` (its container from the name's extension) from
    /// `width`×`height` frames at `fps`. Sizes must be even for H.264.
    pub fn start(
        output: &Path,
        width: u32,
        height: u32,
        fps: f64,
        settings: &EncoderSettings,
    ) -> Result<Encoder, EncodeError> {
        let mut command = ffmpeg_command()?;
        command
            .args(["-f", "rawvideo", "-pix_fmt", settings.input.name()])
            .args(["-video_size", &format!("{width}x{height}")])
            .args(["-framerate", &format!("{fps}")])
            .args(["-i", "pipe:0", "-an"]);
        match &settings.codec {
            // Two encoding threads: the frames' maker needs the other cores as much, and each
            // further x264 thread holds frames of its own (measured at 1080p: 288 MB with 2, 313
            // with x264's default of 3 on 2 cores, and files 1 % smaller).
            Codec::H264 {
                preset,
                crf,
                sliced_threads,
            } => {
                command
                    .args(["-c:v", "libx264", "-preset", preset, "-threads", "2"])
                    .args(["-crf", &crf.to_string(), "-pix_fmt", "yuv420p"]);
                let mut params = Vec::new();
                if REAL_TIME_PRESETS.contains(&preset.as_str()) {
                    params.push(SHORT_LOOKAHEAD);
                }
                if *sliced_threads {
                    params.push(SLICED_THREADS);
                }
                if !params.is_empty() {
                    command.args(["-x264-params", &params.join(":")]);
                }
                &mut command
            }
            Codec::Mpeg4 { quality } => command
                .args(["-c:v", "mpeg4", "-q:v", &quality.to_string()])
                .args(["-pix_fmt", "yuv420p"]),
        };
        let extension = output
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if matches!(extension.as_str(), "mp4" | "m4v" | "mov") {
            // The index at the front: a browser plays the file while it loads.
            command.args(["-movflags", "+faststart"]);
        }
        if let Some(comment) = &settings.comment {
            command.args(["-metadata", &format!("comment={comment}")]);
        }
        if settings.start_time.is_finite() && settings.start_time > 0.0 {
            command.args(["-output_ts_offset", &format!("{:.6}", settings.start_time)]);
        }
        command
            .arg(file_arg(output))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|cause| MediaError::Spawn {
            tool: "ffmpeg",
            cause,
        })?;
        let errors = Some(collect_stderr(&mut child));
        if let Some(stdin) = &child.stdin {
            widen_pipe(stdin);
        }
        Ok(Encoder {
            stdin: child.stdin.take(),
            child,
            errors,
            width,
            height,
            input: settings.input,
            frames: 0,
        })
    }

    /// Sends one frame, in the input pixel format.
    pub fn write(&mut self, frame: &[u8]) -> Result<(), EncodeError> {
        let expected = self.input.frame_bytes(self.width, self.height);
        if frame.len() != expected {
            return Err(EncodeError::FrameSize {
                got: frame.len(),
                expected,
                width: self.width,
                height: self.height,
            });
        }
        let stdin = self.stdin.as_mut().expect("open until finish");
        if let Err(error) = stdin.write_all(frame) {
            // ffmpeg has gone: what it said is the reason.
            self.stdin = None;
            let _ = self.child.wait();
            let said = self
                .errors
                .take()
                .map(|r| r.join().unwrap_or_default())
                .unwrap_or_default();
            return Err(EncodeError::Stopped(if said.trim().is_empty() {
                error.to_string()
            } else {
                said.trim().to_string()
            }));
        }
        self.frames += 1;
        Ok(())
    }

    /// Frames sent so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Ends the input, waits for ffmpeg to finish the file, and checks that it was written.
    pub fn finish(mut self) -> Result<(), EncodeError> {
        drop(self.stdin.take());
        let status = self.child.wait().map_err(|cause| MediaError::Spawn {
            tool: "ffmpeg",
            cause,
        })?;
        let said = self
            .errors
            .take()
            .map(|r| r.join().unwrap_or_default())
            .unwrap_or_default();
        check_ffmpeg(status, &said)?;
        Ok(())
    }
}

/// The most an unprivileged process may give a pipe on Linux by default
/// (`/proc/sys/fs/pipe-max-size`).
const PIPE_BYTES: libc::c_int = 1 << 20;

/// Gives the pipe to ffmpeg 1 MB instead of the 64 kB it starts with: a 1080p frame (3 MB) then
/// crosses in 3 writes instead of 48, each waking the other side (measured at 1080p: ~4 % less
/// time, less system time). A refusal (a lower system limit) costs only that speed.
fn widen_pipe(pipe: &ChildStdin) {
    use std::os::fd::AsRawFd;
    // SAFETY: F_SETPIPE_SZ only resizes the pipe's kernel buffer; the descriptor is ours and open.
    unsafe {
        libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BYTES);
    }
}

impl Drop for Encoder {
    /// An encoder dropped unfinished (an error, Ctrl-C) is stopped; its file is the caller's to
    /// remove.
    fn drop(&mut self) {
        if self.stdin.is_some() || self.errors.is_some() {
            drop(self.stdin.take());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(path: &Path) -> String {
        let out = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
            .args([
                "-show_entries",
                "stream=codec_name,pix_fmt,nb_read_frames,start_time",
            ])
            .args(["-of", "default=noprint_wrappers=1"])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn frames_become_a_browser_ready_h264_file_that_keeps_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out.mp4");
        let settings = EncoderSettings {
            codec: Codec::H264 {
                preset: "veryfast".into(),
                crf: 21,
                sliced_threads: false,
            },
            input: PixelFormat::Bgr24,
            start_time: 0.5,
            comment: Some("made by a test".into()),
        };
        let mut encoder = Encoder::start(&output, 64, 48, 25.0, &settings).unwrap();
        for i in 0..10u8 {
            encoder.write(&vec![i * 20; 64 * 48 * 3]).unwrap();
        }
        assert!(matches!(
            encoder.write(&[0; 5]),
            Err(EncodeError::FrameSize { got: 5, .. })
        ));
        assert_eq!(encoder.frames(), 10);
        encoder.finish().unwrap();
        let facts = frames_of(&output);
        assert!(facts.contains("codec_name=h264"), "{facts}");
        assert!(facts.contains("pix_fmt=yuv420p"), "{facts}");
        assert!(facts.contains("nb_read_frames=10"), "{facts}");
        assert!(facts.contains("start_time=0.5"), "{facts}");
        let media = crate::probe(&output).unwrap();
        assert_eq!(media.comment.as_deref(), Some("made by a test"));
        // faststart: the index (moov) comes before the data (mdat).
        let bytes = std::fs::read(&output).unwrap();
        let at = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).unwrap();
        assert!(at(b"moov") < at(b"mdat"));
    }

    #[test]
    fn frames_cross_to_ffmpeg_through_a_wide_pipe() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let settings = EncoderSettings {
            codec: Codec::Mpeg4 { quality: 5 },
            input: PixelFormat::Yuv420p,
            start_time: 0.0,
            comment: None,
        };
        let mut encoder =
            Encoder::start(&dir.path().join("out.mp4"), 64, 48, 25.0, &settings).unwrap();
        let pipe = encoder.stdin.as_ref().unwrap().as_raw_fd();
        // SAFETY: F_GETPIPE_SZ only reads the open pipe's size.
        let bytes = unsafe { libc::fcntl(pipe, libc::F_GETPIPE_SZ) };
        // A system that allows less keeps a narrower pipe (only slower): the size is checked
        // where 1 MB is allowed.
        let allowed = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|limit| limit.trim().parse::<libc::c_int>().ok());
        if allowed.is_some_and(|limit| limit >= PIPE_BYTES) {
            assert_eq!(bytes, PIPE_BYTES);
        } else {
            eprintln!("pipe-max-size is under 1 MB here: the pipe stays at {bytes} bytes");
        }
        encoder.write(&[128; 64 * 48 * 3 / 2]).unwrap();
        encoder.finish().unwrap();
    }

    /// x264 writes the settings it used into the stream (its SEI text).
    fn x264_setting(path: &Path, name: &str) -> Option<String> {
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let at = text.find(&format!(" {name}="))? + name.len() + 2;
        Some(
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect(),
        )
    }

    #[test]
    fn real_time_presets_look_ahead_a_few_frames_and_threads_share_frames_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let setting_of = |preset: &str, sliced_threads: bool, name: &str| {
            let output = dir.path().join(format!("{preset}-{sliced_threads}.mp4"));
            let settings = EncoderSettings {
                codec: Codec::H264 {
                    preset: preset.into(),
                    crf: 21,
                    sliced_threads,
                },
                input: PixelFormat::Yuv420p,
                start_time: 0.0,
                comment: None,
            };
            // Tall enough for two threads on slices (x264 runs one on a frame only three
            // macroblocks tall).
            let mut encoder = Encoder::start(&output, 64, 128, 25.0, &settings).unwrap();
            for i in 0..12u8 {
                encoder.write(&vec![i * 10; 64 * 128 * 3 / 2]).unwrap();
            }
            encoder.finish().unwrap();
            x264_setting(&output, name)
        };
        let lookahead_of = |preset: &str| setting_of(preset, false, "rc_lookahead");
        assert_eq!(lookahead_of("veryfast").as_deref(), Some("5"));
        assert_eq!(lookahead_of("faster").as_deref(), Some("5"));
        // medium's own look-ahead is 40 frames.
        assert_eq!(lookahead_of("medium").as_deref(), Some("40"));
        // Threads on slices, asked for or not, with either kind of preset; the short look-ahead
        // stays.
        for preset in ["veryfast", "medium"] {
            assert_eq!(
                setting_of(preset, true, "sliced_threads").as_deref(),
                Some("1")
            );
            assert_eq!(
                setting_of(preset, false, "sliced_threads").as_deref(),
                Some("0")
            );
        }
        assert_eq!(
            setting_of("veryfast", true, "rc_lookahead").as_deref(),
            Some("5")
        );
    }

    #[test]
    fn an_encoder_that_cannot_write_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("no such folder/out.mp4");
        let settings = EncoderSettings {
            codec: Codec::Mpeg4 { quality: 3 },
            input: PixelFormat::Yuv420p,
            start_time: 0.0,
            comment: None,
        };
        let mut encoder = Encoder::start(&output, 64, 48, 25.0, &settings).unwrap();
        let mut failed = None;
        for _ in 0..50 {
            if let Err(error) = encoder.write(&vec![0; 64 * 48 * 3 / 2]) {
                failed = Some(error);
                break;
            }
        }
        let error = match failed {
            Some(error) => error,
            None => encoder.finish().unwrap_err(),
        };
        let text = error.to_string();
        assert!(
            text.contains("No such file") || text.contains("no such"),
            "{text}"
        );
    }
}
