//! Reading video with OpenCV's FFMPEG backend, and writing it through a piped ffmpeg ([`media`]),
//! whose x264 preset and quality the user chooses. The output is written under a hidden temporary
//! name beside the final one and renamed when complete, so an interrupted run never leaves a
//! half-written video under the final name.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use opencv::core::Mat;
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture};

/// A decoded frame (BGR).
pub struct Frame {
    pub image: Mat,
}

pub struct VideoSource {
    capture: VideoCapture,
    path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// What the container says; may be approximate.
    pub frame_count: Option<u64>,
    /// Clockwise rotation (0, 90, 180, 270) applied to the stored frames to show them upright.
    pub rotation: u32,
    /// Every frame's presentation time, from the container (OpenCV's own are estimates for the
    /// last frames of a variable-rate video).
    pub frame_times: Option<Vec<f64>>,
    /// Whether the container lists exactly one time per frame (then those are the times).
    exact_times: bool,
    /// The time of the last frame read.
    last_time: Option<f64>,
}

/// Frames above this many megapixels are refused unless the user raises the limit.
pub const DEFAULT_MAX_MEGAPIXELS: u64 = 40;

impl VideoSource {
    /// Opens `path`; frames of more than `max_megapixels` are refused before any is decoded.
    pub fn open(path: &Path, max_megapixels: u64) -> Result<VideoSource> {
        if !path.is_file() {
            bail!("{} does not exist (give the video with -i)", path.display());
        }
        let capture = open_capture(path)?;
        let (stream, frame_times) = media::probe::video_stream(path)?;
        let fps = capture.get(videoio::CAP_PROP_FPS)?;
        let stored_width = capture.get(videoio::CAP_PROP_FRAME_WIDTH)? as u32;
        let stored_height = capture.get(videoio::CAP_PROP_FRAME_HEIGHT)? as u32;
        let count = capture.get(videoio::CAP_PROP_FRAME_COUNT)?;
        if stored_width == 0 || stored_height == 0 {
            bail!(
                "{} has no video stream (an audio-only file?)",
                path.display()
            );
        }
        let megapixels = stored_width as f64 * stored_height as f64 / 1e6;
        if megapixels > max_megapixels as f64 {
            bail!(
                "{}: its frames are {stored_width}×{stored_height} ({megapixels:.0} megapixels), above \
                 the limit of {max_megapixels}; scale it down first (e.g. `ffmpeg -i {} -vf \
                 scale=3840:-2 smaller.mp4`) or raise --max-megapixels",
                path.display(),
                path.display()
            );
        }
        if stream.raw {
            bail!(
                "{}: the frame rate is unknown (a raw {} stream has no timing); remux it with a frame \
                 rate, e.g. `ffmpeg -r 30 -i {} -c copy fixed.mkv`",
                path.display(),
                stream.format,
                path.display()
            );
        }
        // Written at the stream's base rate when it is faster than the average (a variable rate):
        // no frame of the fast parts is dropped.
        let fps = match stream.frame_rate {
            Some(base) if base.is_finite() && base > fps && base < 1000.0 => base,
            _ => fps,
        };
        let fps = check_frame_rate(path, fps)?;
        let (width, height) = if stream.rotation % 180 == 90 {
            (stored_height, stored_width)
        } else {
            (stored_width, stored_height)
        };
        let frame_count = (count.is_finite() && count > 0.0).then_some(count as u64);
        let exact_times =
            matches!((&frame_times, frame_count), (Some(t), Some(n)) if t.len() as u64 == n);
        Ok(VideoSource {
            capture,
            path: path.to_path_buf(),
            width,
            height,
            fps,
            frame_count,
            rotation: stream.rotation,
            frame_times,
            exact_times,
            last_time: None,
        })
    }

    /// The same video from its first frame, with a decoder of its own (the second pass reads it
    /// again): what was probed is taken from here, not asked of ffprobe twice (a third of a second
    /// each time it starts on 2 cores).
    pub fn reopen(&self) -> Result<VideoSource> {
        Ok(VideoSource {
            capture: open_capture(&self.path)?,
            path: self.path.clone(),
            width: self.width,
            height: self.height,
            fps: self.fps,
            frame_count: self.frame_count,
            rotation: self.rotation,
            frame_times: self.frame_times.clone(),
            exact_times: self.exact_times,
            last_time: None,
        })
    }

    /// The next frame (BGR, upright), or `None` at the end.
    pub fn read(&mut self) -> Result<Option<Frame>> {
        let mut image = Mat::default();
        if !self.capture.read(&mut image)? || image.empty() {
            return Ok(None);
        }
        let turn = match self.rotation {
            90 => Some(opencv::core::ROTATE_90_CLOCKWISE),
            180 => Some(opencv::core::ROTATE_180),
            270 => Some(opencv::core::ROTATE_90_COUNTERCLOCKWISE),
            _ => None,
        };
        if let Some(code) = turn {
            let mut upright = Mat::default();
            opencv::core::rotate(&image, &mut upright, code)?;
            image = upright;
        }
        Ok(Some(Frame { image }))
    }

    /// Lets go of the decoder and its buffers; the video's facts stay.
    pub fn release(&mut self) -> Result<()> {
        self.capture.release()?;
        Ok(())
    }

    /// When the video's first frame is shown (seconds): the container's first time. A video stream
    /// may start after the sound (the Hamilton clip's starts at 0.852 s, its sound at 0.008 s); the
    /// labelled video starts where the input's does, so the sound put back stays in sync.
    pub fn start_time(&self) -> f64 {
        self.frame_times
            .as_ref()
            .and_then(|times| times.first().copied())
            .filter(|t| t.is_finite() && *t >= 0.0)
            .unwrap_or(0.0)
    }

    /// The presentation time (seconds) of frame `index`, the one just read: the container's own
    /// when it lists one per frame; otherwise OpenCV's (the frame's number at the average rate when
    /// it gives none), never going backwards: OpenCV estimates the times of the frames it drains at
    /// the end of a variable-rate video, and those take the container's next time.
    pub fn time_of_frame(&mut self, index: u64) -> f64 {
        if let (true, Some(times)) = (self.exact_times, &self.frame_times) {
            if let Some(&time) = times.get(index as usize) {
                self.last_time = Some(time);
                return time;
            }
        }
        let msec = self.capture.get(videoio::CAP_PROP_POS_MSEC).unwrap_or(-1.0);
        let decoded = if msec.is_finite() && (msec > 0.0 || index == 0) {
            msec / 1000.0
        } else {
            index as f64 / self.fps
        };
        let time = match self.last_time {
            Some(previous) if decoded <= previous => self
                .frame_times
                .as_ref()
                .and_then(|times| times.iter().copied().find(|&t| t > previous))
                .unwrap_or(previous + 1.0 / self.fps),
            _ => decoded,
        };
        self.last_time = Some(time);
        time
    }
}

/// OpenCV's decoder for the video at `path`, frames as stored.
fn open_capture(path: &Path) -> Result<VideoCapture> {
    let name = path
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", path.display()))?;
    // Through the `file:` protocol: FFmpeg must never read a name such as `concat:a|b` or
    // `http://…` as a URL.
    let mut capture = VideoCapture::from_file(format!("file:{name}"), videoio::CAP_FFMPEG)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if !capture.is_opened()? {
        bail!(
            "{} is not a video OpenCV can read (is it an .mp4/.mkv/.avi/.mov? is the file complete?)",
            path.display()
        );
    }
    // Debian's OpenCV 4.6 turns 90° and 270° videos the wrong way; frames are read as stored and
    // turned here the way ffmpeg and players do.
    capture.set(videoio::CAP_PROP_ORIENTATION_AUTO, 0.0)?;
    Ok(capture)
}

/// A frame rate the output can be written with, or an error saying how to fix the input.
/// (FFmpeg substitutes a default for most streams without one; containers can still report 0.)
pub fn check_frame_rate(path: &Path, fps: f64) -> Result<f64> {
    if !(fps.is_finite() && fps > 0.5 && fps < 1000.0) {
        bail!(
            "{}: the frame rate is unknown ({fps}); remux it with a frame rate, e.g. \
             `ffmpeg -r 30 -i {} -c copy fixed.mp4`",
            path.display(),
            path.display()
        );
    }
    Ok(fps)
}

/// Output codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Codec {
    /// H.264 (x264): small files that play everywhere, browsers included.
    H264,
    /// MPEG-4 part 2 (mp4v): a little faster to encode, larger files, fewer players.
    Mp4v,
}

/// How the labelled video is encoded.
#[derive(Debug, Clone)]
pub struct Encoding {
    pub codec: Codec,
    /// x264's preset (speed against file size at the same quality).
    pub preset: String,
    /// x264's quality: lower is better and bigger.
    pub crf: u8,
    /// x264's threads share each frame: ~50 MB less at 1080p, ~5-10 % slower (the passes in
    /// turn, where memory is what is saved).
    pub sliced_threads: bool,
}

impl Encoding {
    fn settings(&self, start_time: f64) -> media::EncoderSettings {
        media::EncoderSettings {
            codec: match self.codec {
                Codec::H264 => media::Codec::H264 {
                    preset: self.preset.clone(),
                    crf: self.crf,
                    sliced_threads: self.sliced_threads,
                },
                Codec::Mp4v => media::Codec::Mpeg4 { quality: 3 },
            },
            // Converted here (OpenCV's BT.601 conversion, the inverse of its decoding): half the
            // bytes through the pipe, and no conversion left for ffmpeg.
            input: media::PixelFormat::Yuv420p,
            start_time,
            comment: Some(facefile::format::labels::LABELLED_VIDEO_COMMENT.into()),
        }
    }
}

/// The largest side MPEG-4 part 2 (mp4v) can encode.
const MPEG4_MAX_SIDE: u32 = 8190;

/// Containers the labelled video can be written in.
const CONTAINERS: &[&str] = &["mp4", "m4v", "mov", "mkv", "avi"];

pub struct VideoSink {
    encoder: Option<media::Encoder>,
    temp: PathBuf,
    target: PathBuf,
    fps: f64,
    /// Pixels added at the right and bottom: H.264 needs even sizes.
    pad: (i32, i32),
    /// The written frames' size.
    size: (u32, u32),
    /// The first frame's time; frames are placed by their own times from it.
    start: Option<f64>,
    /// The last frame written, repeated to fill gaps in variable-rate input.
    last: Option<Mat>,
    frames_written: u64,
    closed: bool,
    committed: bool,
}

impl VideoSink {
    /// A sink for `width`×`height` frames at `fps`, the first shown at `start_time` seconds (the
    /// output starts there too, as the input's video does, so the sound stays in sync).
    pub fn create(
        target: &Path,
        fps: f64,
        width: u32,
        height: u32,
        start_time: f64,
        encoding: &Encoding,
    ) -> Result<VideoSink> {
        if target.exists() && !target.is_file() {
            bail!(
                "--output {} is not a regular file; a video needs a file it can seek in (give a \
                 file name such as labeled.mp4)",
                target.display()
            );
        }
        let extension = target
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if !CONTAINERS.contains(&extension.as_str()) {
            bail!(
                "cannot write a video named {}: give it one of the extensions {} (.mp4 plays in \
                 browsers)",
                target.display(),
                CONTAINERS
                    .iter()
                    .map(|c| format!(".{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let parent = facefile::fs::parent_or_dot(target);
        if !parent.is_dir() {
            bail!(
                "cannot write {}: the folder {} does not exist; create it first",
                target.display(),
                parent.display()
            );
        }
        // 4:2:0 video needs even sizes; an odd row or column is padded (black), never cut, so
        // every pixel of the input and every labelled box stays where it was.
        let pad = ((width % 2) as i32, (height % 2) as i32);
        let size = (width + pad.0 as u32, height + pad.1 as u32);
        if encoding.codec == Codec::Mp4v && size.0.max(size.1) > MPEG4_MAX_SIDE {
            return Err(cli::UsageError(format!(
                "--codec mp4v cannot write {}×{} video: MPEG-4 part 2 allows at most {MPEG4_MAX_SIDE} \
                 px a side; leave --codec out (H.264)",
                size.0, size.1
            ))
            .into());
        }
        // The container is chosen from the extension, so the partial name keeps it.
        facefile::fs::remove_stale_partials(target);
        let temp = facefile::fs::partial_path(target);
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .with_context(|| {
                format!(
                    "cannot write {} in the folder {}",
                    target.display(),
                    parent.display()
                )
            })?;
        let encoder =
            media::Encoder::start(&temp, size.0, size.1, fps, &encoding.settings(start_time))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&temp);
                    anyhow::anyhow!(
                        "cannot start the video encoder for {}: {e}",
                        target.display()
                    )
                })?;
        Ok(VideoSink {
            encoder: Some(encoder),
            temp,
            target: target.to_path_buf(),
            fps,
            pad,
            size,
            start: None,
            last: None,
            frames_written: 0,
            closed: false,
            committed: false,
        })
    }

    /// The size of the written frames when it differs from the input's (padded to even).
    pub fn padded_size(&self) -> Option<(u32, u32)> {
        (self.pad != (0, 0)).then_some(self.size)
    }

    fn send(&mut self, pixels: &[u8]) -> Result<()> {
        let target = self.target.display().to_string();
        self.encoder
            .as_mut()
            .expect("open until closed")
            .write(pixels)
            .with_context(|| format!("encoding {target}"))?;
        self.frames_written += 1;
        Ok(())
    }

    /// Writes a frame shown at `time` seconds. The file has a constant frame rate, so when frames
    /// come at a variable rate the previous one is repeated to fill a gap and a frame is dropped
    /// when its slot is taken, as ffmpeg does: each frame stays at its own time and the labelled
    /// video stays in sync with the sound.
    pub fn write_at(&mut self, frame: Mat, time: f64) -> Result<()> {
        let start = *self.start.get_or_insert(time);
        let slot = ((time - start) * self.fps).round().max(0.0) as u64;
        if slot < self.frames_written {
            return Ok(());
        }
        let frame = if self.pad != (0, 0) {
            let mut padded = Mat::default();
            opencv::core::copy_make_border(
                &frame,
                &mut padded,
                0,
                self.pad.1,
                0,
                self.pad.0,
                opencv::core::BORDER_CONSTANT,
                opencv::core::Scalar::all(0.0),
            )?;
            padded
        } else {
            frame
        };
        let mut yuv = Mat::default();
        opencv::imgproc::cvt_color_def(&frame, &mut yuv, opencv::imgproc::COLOR_BGR2YUV_I420)?;
        // Only this frame and the one before it (for gaps) are kept, as converted: no copies.
        drop(frame);
        if let Some(last) = self.last.take() {
            while self.frames_written < slot {
                self.send(last.data_bytes()?)?;
            }
        }
        self.send(yuv.data_bytes()?)?;
        self.last = Some(yuv);
        Ok(())
    }

    /// Finishes the file under its partial name and checks it is complete: ffmpeg must end
    /// cleanly and say nothing of a failed write, and the file, opened again, must hold every
    /// frame written.
    pub fn close(&mut self) -> Result<()> {
        self.closed = true;
        let incomplete = |why: String| {
            anyhow::anyhow!(
                "the labelled video could not be written completely ({why}); is the disk full? {} is unchanged",
                self.target.display()
            )
        };
        if let Some(encoder) = self.encoder.take() {
            encoder.finish().map_err(|e| incomplete(e.to_string()))?;
        }
        let size = std::fs::metadata(&self.temp).map(|m| m.len()).unwrap_or(0);
        if size == 0 {
            return Err(incomplete("the file is empty".into()));
        }
        let name = self.temp.to_str().context("output path is not UTF-8")?;
        let check = VideoCapture::from_file(format!("file:{name}"), videoio::CAP_FFMPEG)?;
        if !check.is_opened()? {
            return Err(incomplete("it cannot be opened again".into()));
        }
        let frames = check.get(videoio::CAP_PROP_FRAME_COUNT)?;
        if !(frames.is_finite() && frames + 1.0 >= self.frames_written as f64) {
            return Err(incomplete(format!(
                "it holds {frames} of the {} frames written",
                self.frames_written
            )));
        }
        Ok(())
    }

    /// Moves the closed, checked file to its final name.
    pub fn commit(mut self) -> Result<()> {
        if !self.closed {
            self.close()?;
        }
        std::fs::rename(&self.temp, &self.target).with_context(|| {
            format!(
                "cannot move the finished video to {}",
                self.target.display()
            )
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for VideoSink {
    fn drop(&mut self) {
        if !self.committed {
            // An unfinished encoder is stopped when dropped.
            drop(self.encoder.take());
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_frame_rates_are_refused_with_the_fix() {
        for fps in [0.0, f64::NAN, f64::INFINITY, -30.0, 90_000.0] {
            let err = check_frame_rate(Path::new("clip.mp4"), fps)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("clip.mp4")
                    && err.contains("frame rate is unknown")
                    && err.contains("ffmpeg -r"),
                "{err}"
            );
        }
        assert_eq!(
            check_frame_rate(Path::new("clip.mp4"), 29.97).unwrap(),
            29.97
        );
    }
}
