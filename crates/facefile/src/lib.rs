//! `facefile`: the versioned files the pipeline's stages exchange and the plain data in them, with
//! no dlib and no OpenCV, so that training maths, the downloader and the report writers build
//! without the face-detection stack.
//!
//! - [`geometry`]: boxes and points in image pixels.
//! - [`embedding`]: face embeddings and the identity of the model that made them.
//! - [`settings`]: detection and analysis settings recorded in the files.
//! - [`models`]: the catalogue of model files (names, SHA-256, where they come from).
//! - [`format`]: one file per format (encodings, model, labels, manifest, clean report, saved
//!   tracks), all read and written through one header.
//! - [`layout`]: the folders of a data folder that are not people.
//! - [`fs`]: atomic writes, hidden partial files, SHA-256, and the output-is-not-an-input check.
//! - [`colours`]: a colour per person, given once and kept from model to model.
//! - [`csv`]: text cells spreadsheets show as text (quoted, formulas defused).
//! - [`error`]: what reading and writing can fail with.

pub mod colours;
pub mod csv;
pub mod embedding;
pub mod error;
pub mod format;
pub mod fs;
pub mod geometry;
pub mod layout;
pub mod models;
pub mod quarantine;
pub mod settings;

pub use embedding::{EmbedderId, EmbedderKind, Embedding, Landmarks5};
pub use error::FormatError;
pub use format::{Format, Stamped};
pub use geometry::{BoundingBox, Point};
pub use settings::{AnalysisSettings, DetectionSettings, DetectorKind, MultiFacePolicy, Upsample};
