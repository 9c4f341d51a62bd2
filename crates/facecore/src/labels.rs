//! `labels.msgpack`: every frame's faces as the video labeler drew them, and each track's summary.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::FormatError;
use crate::format::{read_versioned, write_versioned, FileKind};
use crate::geometry::BoundingBox;

pub const LABELS_KIND: &str = "facelabel-labels";
pub const LABELS_VERSION: u32 = 1;

pub const LABELS: FileKind = FileKind {
    kind: LABELS_KIND,
    version: LABELS_VERSION,
    producer: "`video-labeler --labels`",
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelsFile {
    pub kind: String,
    pub version: u32,
    pub producer: String,
    pub video: VideoInfo,
    /// The people the model knows, in its order.
    pub classes: Vec<String>,
    pub threshold: f64,
    /// One entry per frame of the video, in order (frames without faces have an empty list).
    pub frames: Vec<FrameLabels>,
    pub tracks: Vec<TrackSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub frames: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameLabels {
    pub index: u64,
    pub faces: Vec<FaceLabel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceLabel {
    /// Box in pixels of the video frame.
    pub bbox: BoundingBox,
    pub track: u32,
    /// The name shown, or `None` for `Unknown`.
    pub name: Option<String>,
    /// The track's vote for the name shown (mean probability over its embeddings so far).
    pub probability: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackSummary {
    pub id: u32,
    pub first_frame: u64,
    pub last_frame: u64,
    /// The name after all of the track's votes, or `None` for `Unknown`.
    pub name: Option<String>,
    pub probability: f64,
    /// Embeddings that voted.
    pub votes: u32,
}

impl LabelsFile {
    pub fn read(path: &Path) -> Result<LabelsFile, FormatError> {
        read_versioned(path, &LABELS)
    }

    pub fn write(&self, path: &Path) -> Result<(), FormatError> {
        write_versioned(path, self, &LABELS)
    }
}
