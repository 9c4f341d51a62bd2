//! `labels.msgpack` (and `--labels-json`): every frame's faces as the video labeler drew them, each
//! track's decision with its best candidates, and the cuts.

use serde::{Deserialize, Serialize};

use super::{finite, Format, Stamped};
use crate::embedding::EmbedderId;
use crate::geometry::BoundingBox;

/// The `comment` tag of every labelled video the labeler writes: how audio-merger tells it from an
/// original, and how the labeler knows a file it may replace.
pub const LABELLED_VIDEO_COMMENT: &str = "labelled by facelabel video-labeler";

/// The labels file.
pub type LabelsFile = Stamped<Labels>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    pub video: VideoInfo,
    /// The people the model knows, in its order.
    pub classes: Vec<String>,
    /// The thresholds used (the model's, or the user's `--threshold`); no distance limit for a
    /// model trained with strangers.
    pub min_probability: f64,
    pub max_distance: Option<f32>,
    /// The small-face classifier's thresholds, for the tracks it named, when the model has one.
    /// (Absent from files of earlier builds: none.)
    #[serde(default)]
    pub small_faces: Option<SmallFaceThresholds>,
    /// One entry per frame of the video, in order (frames without faces have an empty list).
    pub frames: Vec<FrameLabels>,
    pub tracks: Vec<TrackSummary>,
    /// Frames that start a new shot.
    pub cuts: Vec<u64>,
}

impl Format for Labels {
    const KIND: &'static str = "facelabel-labels";
    const VERSION: u32 = 3;
    const PRODUCER: &'static str = "`video-labeler --labels`";

    fn validate(&self, _: Option<&EmbedderId>) -> Result<(), String> {
        finite("the frame rate", self.video.fps)?;
        for frame in &self.frames {
            finite("a frame time", frame.time)?;
            for face in &frame.faces {
                finite("a face's probability", face.probability)?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    pub path: String,
    /// Size of the frames as shown (after the rotation the file asks for).
    pub width: u32,
    pub height: u32,
    /// Average frame rate.
    pub fps: f64,
    pub frames: u64,
    /// Clockwise rotation applied to the stored frames to show them upright (0, 90, 180, 270).
    pub rotation: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameLabels {
    pub index: u64,
    /// Presentation time in seconds, from the video's own timestamps.
    pub time: f64,
    pub faces: Vec<FaceLabel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceLabel {
    /// Box in pixels of the (upright) frame.
    pub bbox: BoundingBox,
    pub track: u32,
    /// The name shown, or `None` for Unknown.
    pub name: Option<String>,
    /// The track's probability for its best candidate.
    pub probability: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackSummary {
    pub id: u32,
    pub first_frame: u64,
    pub last_frame: u64,
    /// The name decided from all of the track's faces, or `None` for Unknown.
    pub name: Option<String>,
    /// Probability of the best candidate, and the distance of the track's mean face to that
    /// person's nearest training face.
    pub probability: f64,
    pub distance: f32,
    /// Faces that were embedded and weighed.
    pub faces: u32,
    /// The three best candidates, best first, also for Unknown tracks.
    pub candidates: Vec<Candidate>,
    /// Why the track is Unknown, when it is.
    pub unknown_reason: Option<String>,
    /// The name it would have had alone, given to a likelier face on screen at the same time.
    pub lost_to_another: Option<String>,
    /// The track's median face height (pixels), and whether that made it a small face, named by
    /// the model's small-face classifier. (Absent from files of earlier builds: 0, no.)
    #[serde(default)]
    pub face_height: f32,
    #[serde(default)]
    pub small_face: bool,
}

/// The thresholds for faces shorter than `below_height` pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SmallFaceThresholds {
    pub below_height: f32,
    pub min_probability: f64,
    pub max_distance: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub name: String,
    pub probability: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_nan_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.msgpack");
        let mut file = Stamped::new(
            "video-labeler",
            None,
            Labels {
                video: VideoInfo {
                    path: "in.mp4".into(),
                    width: 640,
                    height: 360,
                    fps: 29.97,
                    frames: 1,
                    rotation: 0,
                },
                classes: vec!["Mina".into()],
                min_probability: 0.4,
                max_distance: Some(0.9),
                small_faces: Some(SmallFaceThresholds {
                    below_height: 64.0,
                    min_probability: 0.3,
                    max_distance: None,
                }),
                frames: vec![FrameLabels {
                    index: 0,
                    time: 0.0,
                    faces: vec![FaceLabel {
                        bbox: BoundingBox::new(1, 2, 3, 4),
                        track: 0,
                        name: Some("Mina".into()),
                        probability: 0.9,
                    }],
                }],
                tracks: vec![],
                cuts: vec![0],
            },
        );
        file.write(&path).unwrap();
        assert_eq!(LabelsFile::read(&path).unwrap(), file);
        file.body.frames[0].faces[0].probability = f64::NAN;
        file.write(&path).unwrap();
        assert!(LabelsFile::read(&path).is_err());
    }
}
