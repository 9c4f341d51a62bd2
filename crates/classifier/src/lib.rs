//! `classifier`: naming faces with a trained model (`model.msgpack`), without dlib or OpenCV, so
//! the trainer can measure exactly the rule the video labeler applies.
//!
//! - [`predict`]: probabilities over the known people (calibrated one-vs-one SVMs coupled into one
//!   distribution, or nearest neighbour for few-shot models) and the distance to the winner's
//!   nearest training face.
//! - [`decide`]: the open-set rule: a name, or Unknown with the reason.
//! - [`evidence`]: a track's faces pooled into one decision.
//! - [`rules`]: which classifier names a face of a given size (a model may have one for small
//!   faces), with which thresholds.

pub mod decide;
pub mod evidence;
pub mod predict;
pub mod rules;

pub use decide::{decide, Decision, Thresholds, UnknownReason};
pub use evidence::{face_vector, face_weight, TrackEvidence};
pub use predict::{Prediction, Predictor};
pub use rules::Rules;
