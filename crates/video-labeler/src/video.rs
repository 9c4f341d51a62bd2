//! Reading and writing video with OpenCV's FFMPEG backend. The output is written under a hidden
//! temporary name beside the final one and renamed when complete, so an interrupted run never
//! leaves a half-written video under the final name.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use opencv::core::{Mat, Size};
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture, VideoWriter};

pub struct VideoSource {
    capture: VideoCapture,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// What the container says; may be approximate.
    pub frame_count: Option<u64>,
}

impl VideoSource {
    pub fn open(path: &Path) -> Result<VideoSource> {
        if !path.is_file() {
            bail!("{} does not exist (give the video with -i)", path.display());
        }
        let name = path
            .to_str()
            .with_context(|| format!("{} is not a UTF-8 path", path.display()))?;
        let capture = VideoCapture::from_file(name, videoio::CAP_FFMPEG)
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
        })
    }

    /// The next frame (BGR), or `None` at the end.
    pub fn read(&mut self) -> Result<Option<Mat>> {
        let mut frame = Mat::default();
        if self.capture.read(&mut frame)? && !frame.empty() {
            Ok(Some(frame))
        } else {
            Ok(None)
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
    finished: bool,
}

impl VideoSink {
    pub fn create(
        target: &Path,
        fps: f64,
        width: u32,
        height: u32,
        codec: Codec,
    ) -> Result<VideoSink> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            bail!(
                "cannot write {}: the folder {} does not exist; create it first",
                target.display(),
                parent.display()
            );
        }
        let file_name = target
            .file_name()
            .context("output has no file name")?
            .to_string_lossy();
        let extension = target
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_else(|| "mp4".into());
        // The container is chosen from the extension, so the temporary name keeps it.
        let temp = parent.join(format!(
            ".{file_name}.partial-{}.{extension}",
            std::process::id()
        ));
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
                    finished: false,
                });
            }
        }
        let _ = std::fs::remove_file(&temp);
        bail!(
            "cannot create video {} (no usable encoder for this container)",
            target.display()
        )
    }

    pub fn write(&mut self, frame: &Mat) -> Result<()> {
        self.writer.write(frame).context("encoding a frame")?;
        Ok(())
    }

    /// Closes the file and moves it to its final name.
    pub fn finish(mut self) -> Result<()> {
        self.writer.release()?;
        std::fs::rename(&self.temp, &self.target).with_context(|| {
            format!(
                "cannot move the finished video to {}",
                self.target.display()
            )
        })?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for VideoSink {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.writer.release();
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
