//! `facecore`: finding faces in pictures and turning them into embeddings, with the models each
//! worker thread owns. The files the stages exchange, and the plain types in them, are `facefile`'s;
//! naming faces from embeddings is `classifier`'s.
//!
//! - [`models`]: locating and verifying the model files.
//! - [`dataset`]: finding the photos under `data/<person>/`.
//! - [`image_io`]: decoding photos by content (JPEG through libjpeg-turbo), EXIF orientation, limits.
//! - [`picture`]: a picture as dlib (RGB) and OpenCV (BGR) each want it.
//! - [`detect`]: YuNet, or dlib's HOG and CNN detectors.
//! - [`embed`]: SFace, or dlib's landmarks and ResNet.
//! - [`analyze`]: a detector and an embedder loaded together, with their settings.
//! - [`photo`]: one photo from bytes to outcome, shared by the encoder and the cleaner.
//! - [`pool`]: a worker pool where each thread owns its models.
//! - [`error`].
#![recursion_limit = "1024"]

#[macro_use]
extern crate cpp;

pub mod analyze;
pub mod dataset;
pub mod detect;
mod dlib_bridge;
pub mod embed;
pub mod error;
pub mod image_io;
pub mod models;
pub mod photo;
pub mod picture;
pub mod pool;

pub use analyze::{Face, FaceAnalyzer, Views};
pub use detect::Detection;
pub use error::{AnalysisError, ImageError, ModelError};
pub use image_io::{decode_bytes, decode_file, encode_jpeg, DecodeOptions, DecodedImage, RgbImage};
pub use models::ModelDir;
pub use photo::{examine, ExamineOptions, Examined};
pub use picture::Picture;
pub use pool::run_pool;
