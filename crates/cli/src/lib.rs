//! `cli`: what the six stages share on the command line, so they speak one vocabulary.
//!
//! - [`args`]: the common flags (`--quiet`, `--threads`, `--models-dir`, `--data-dir`, and the
//!   detection flags `--embedder`, `--detector`, `--upsample`), flattened into each stage's clap
//!   parser.
//! - [`run`]: `main` with exit codes, and the Ctrl-C flag.
//! - [`progress`]: one progress-bar style, silent under `--quiet` and when not on a terminal.
//! - [`chart`]: a canvas for the PNG charts (font registered, pixels written atomically).

pub mod args;
pub mod chart;
pub mod progress;
pub mod run;

pub use args::{DataDirArg, DetectionArgs, ModelsArg, MultiFaceArg, QuietArg, ThreadsArg};
pub use run::{interrupted, main, usage_ensure, UsageError};
