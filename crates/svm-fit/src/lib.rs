//! `svm-fit`: training the classifier that the `classifier` crate runs. Pure maths: no dlib, no
//! OpenCV.
//!
//! - [`dataset`]: labelled embeddings, each photo with its other views (kept in one fold), and the
//!   strangers as one more class.
//! - [`solver`]: binary linear SVM by dual coordinate descent (LIBLINEAR's algorithm).
//! - [`platt`]: Platt scaling of decision values into probabilities.
//! - [`train`]: one-vs-one SVMs, each calibrated on internal cross-validation (libsvm's recipe), C
//!   chosen by stratified cross-validation, or nearest neighbour for few-shot data.
//! - [`rule`]: the open-set rule, set on strangers or learned from the members' photos.
//! - [`model`]: the whole fit, method then rule.
//! - [`validate`]: an honest estimate of the whole procedure (nested when C is searched).

pub mod dataset;
pub mod model;
pub mod platt;
pub mod rng;
pub mod rule;
pub mod solver;
pub mod train;
pub mod validate;

pub use dataset::{Dataset, Sample, STRANGERS_CLASS};
pub use model::{fit_model, FittedModel};
pub use rule::{Evidence, OperatingData, Scored, StrangerScores};
pub use train::{MethodChoice, TrainConfig, TrainError};
pub use validate::{cross_validate, CrossValidation, HeldOut};
