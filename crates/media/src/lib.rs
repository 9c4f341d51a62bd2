//! `media`: ffmpeg and ffprobe as child processes, the way every stage must run them.
//!
//! - [`process`]: argument vectors (never a shell), `file:` paths (a name is never read as a URL
//!   or an option), a child that dies with its parent, and ffmpeg's output checked (it can exit 0
//!   after failing to write a file's end).
//! - [`probe`]: what ffprobe says of a file's streams, and of a video stream what decoders do not
//!   (base frame rate, rotation, every frame's time).
//! - [`encode`]: a video encoder fed raw frames through a pipe (x264 at a chosen preset and
//!   quality, browser-ready: yuv420p, `faststart`).

pub mod encode;
pub mod probe;
pub mod process;

pub use encode::{Codec, EncodeError, Encoder, EncoderSettings, PixelFormat};
pub use probe::{probe, video_stream, Media, Stream, VideoStream};
pub use process::{file_arg, run_ffmpeg, MediaError};
