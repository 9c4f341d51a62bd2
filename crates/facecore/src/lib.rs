//! `facecore`: everything the pipeline's stages share about faces.
//!
//! - [`models`]: locating and verifying dlib's model files.
//! - [`dataset`]: finding the photos under `data/<person>/`.
//! - [`image_io`]: decoding photos by content (JPEG through libjpeg-turbo), EXIF orientation, limits.
//! - [`detect`]: HOG or CNN face detection with an upsample setting and an adaptive strategy.
//! - [`embed`]: landmarks, the aligned chip and the 128-d embedding.
//! - [`analyze`]: all of the above for one photo, with the models one worker thread owns.
//! - [`pool`]: a worker pool where each thread owns its models.
//! - [`format`]: the versioned MessagePack files the stages exchange.
//! - [`manifest`]: where each downloaded photo came from.
//! - [`labels`]: the per-frame labels the video labeler writes.
//! - [`classify`]: the trained classifier's file and inference, with the `Unknown` rule.
//! - [`geometry`], [`error`].
#![recursion_limit = "1024"]

#[macro_use]
extern crate cpp;

pub mod analyze;
pub mod classify;
pub mod dataset;
pub mod detect;
mod dlib_bridge;
pub mod embed;
pub mod error;
pub mod format;
pub mod geometry;
pub mod image_io;
pub mod labels;
pub mod manifest;
pub mod models;
pub mod pool;

pub use analyze::{pick_subject, AnalysisSettings, Face, FaceAnalyzer, MultiFacePolicy};
pub use classify::{ClassifierFile, Decision, Prediction};
pub use detect::{Detection, DetectionSettings, DetectorKind, Upsample};
pub use embed::{Embedding, EMBEDDING_DIM};
pub use error::{Error, FormatError, ImageError, ModelError};
pub use format::{EncodedFace, EncodingsFile, ImageRecord, ModelFingerprint, Outcome, Rejection};
pub use geometry::{BoundingBox, Point};
pub use image_io::{
    decode_bytes, decode_file, difference_hash, encode_jpeg, DecodeOptions, DecodedImage, RgbImage,
};
pub use models::{ModelDir, ModelKind};
pub use pool::run_pool;
