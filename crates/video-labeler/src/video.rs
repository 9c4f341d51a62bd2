//! Reading and writing video with OpenCV's FFMPEG backend. The output is written under a hidden
//! temporary name beside the final one and renamed when complete, so an interrupted run never
//! leaves a half-written video under the final name.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use opencv::core::{Mat, Size};
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture, VideoWriter};

/// A decoded frame (BGR).
pub struct Frame {
    pub image: Mat,
}

pub struct VideoSource {
    capture: VideoCapture,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// What the container says; may be approximate.
    pub frame_count: Option<u64>,
    /// Clockwise rotation (0, 90, 180, 270) applied to the stored frames to show them upright.
    pub rotation: u32,
}

impl VideoSource {
    pub fn open(path: &Path) -> Result<VideoSource> {
        if !path.is_file() {
            bail!("{} does not exist (give the video with -i)", path.display());
        }
        let name = path
            .to_str()
            .with_context(|| format!("{} is not a UTF-8 path", path.display()))?;
        // Through the `file:` protocol: FFmpeg must never read a name such as `concat:a|b` or
        // `http://…` as a URL.
        let capture = VideoCapture::from_file(format!("file:{name}"), videoio::CAP_FFMPEG)
            .with_context(|| format!("cannot open {}", path.display()))?;
        if !capture.is_opened()? {
            bail!(
                "{} is not a video OpenCV can read (is it an .mp4/.mkv/.avi/.mov? is the file complete?)",
                path.display()
            );
        }
        let fps = capture.get(videoio::CAP_PROP_FPS)?;
        let width = capture.get(videoio::CAP_PROP_FRAME_WIDTH)? as u32;
        let height = capture.get(videoio::CAP_PROP_FRAME_HEIGHT)? as u32;
        let count = capture.get(videoio::CAP_PROP_FRAME_COUNT)?;
        if width == 0 || height == 0 {
            bail!(
                "{} has no video stream (an audio-only file?)",
                path.display()
            );
        }
        let fps = check_frame_rate(path, fps)?;
        Ok(VideoSource {
            capture,
            width,
            height,
            fps,
            frame_count: (count.is_finite() && count > 0.0).then_some(count as u64),
            rotation: 0,
        })
    }

    /// The next frame (BGR), or `None` at the end.
    pub fn read(&mut self) -> Result<Option<Frame>> {
        let mut image = Mat::default();
        if self.capture.read(&mut image)? && !image.empty() {
            Ok(Some(Frame { image }))
        } else {
            Ok(None)
        }
    }

    /// The presentation time (seconds) of the frame just read, from the video's own timestamps;
    /// frame `index` at the average rate when the container gives none.
    pub fn time_of_last_frame(&self, index: u64) -> f64 {
        let msec = self.capture.get(videoio::CAP_PROP_POS_MSEC).unwrap_or(-1.0);
        if msec.is_finite() && (msec > 0.0 || index == 0) {
            msec / 1000.0
        } else {
            index as f64 / self.fps
        }
    }
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
    /// H.264 (avc1): small files that play everywhere.
    H264,
    /// MPEG-4 part 2 (mp4v): faster to encode, larger files.
    Mp4v,
}

pub struct VideoSink {
    writer: VideoWriter,
    temp: PathBuf,
    target: PathBuf,
    frames_written: u64,
    closed: bool,
    committed: bool,
}

impl VideoSink {
    pub fn create(
        target: &Path,
        fps: f64,
        width: u32,
        height: u32,
        codec: Codec,
    ) -> Result<VideoSink> {
        if target.exists() && !target.is_file() {
            bail!(
                "--output {} is not a regular file; a video needs a file it can seek in (give a \
                 file name such as labeled.mp4)",
                target.display()
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
        let temp_name = temp.to_str().context("output path is not UTF-8")?;
        let size = Size::new(width as i32, height as i32);
        let fourccs: &[[char; 4]] = match codec {
            Codec::H264 => &[['a', 'v', 'c', '1'], ['m', 'p', '4', 'v']],
            Codec::Mp4v => &[['m', 'p', '4', 'v']],
        };
        for [a, b, c, d] in fourccs {
            let fourcc = VideoWriter::fourcc(*a, *b, *c, *d)?;
            let writer = VideoWriter::new_with_backend(
                temp_name,
                videoio::CAP_FFMPEG,
                fourcc,
                fps,
                size,
                true,
            )?;
            if writer.is_opened()? {
                return Ok(VideoSink {
                    writer,
                    temp,
                    target: target.to_path_buf(),
                    frames_written: 0,
                    closed: false,
                    committed: false,
                });
            }
        }
        let _ = std::fs::remove_file(&temp);
        bail!(
            "cannot create video {}: no encoder for a .{} file (use .mp4, .mkv or .avi)",
            target.display(),
            target
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default()
        )
    }

    pub fn write(&mut self, frame: &Mat) -> Result<()> {
        self.writer.write(frame).context("encoding a frame")?;
        self.frames_written += 1;
        Ok(())
    }

    /// Finishes the file under its partial name and checks it is complete: OpenCV's writer reports
    /// no write errors (a full disk leaves a file without its index), so the file is opened again
    /// and must hold every frame written.
    pub fn close(&mut self) -> Result<()> {
        self.writer.release()?;
        self.closed = true;
        let incomplete = |why: String| {
            anyhow::anyhow!(
                "the labelled video could not be written completely ({why}); is the disk full? {} is unchanged",
                self.target.display()
            )
        };
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
            if !self.closed {
                let _ = self.writer.release();
            }
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
