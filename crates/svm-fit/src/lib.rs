//! `svm-fit`: training the classifier that the `classifier` crate runs. Pure maths: no dlib, no
//! OpenCV.
//!
//! - [`dataset`]: labelled embeddings, each photo with its extra views (kept in one fold).
//! - [`solver`]: binary linear SVM by dual coordinate descent (LIBLINEAR's algorithm).
//! - [`platt`]: Platt scaling of decision values into probabilities.
//! - [`train`]: one-vs-one SVMs, each calibrated on internal cross-validation (libsvm's recipe), C
//!   chosen by stratified cross-validation, or nearest neighbour for few-shot data.
//! - [`rule`]: the open-set rule learned from held-out predictions and simulated strangers.
//! - [`validate`]: an honest estimate of the whole procedure (nested when C is searched).

pub mod dataset;
pub mod platt;
pub mod rng;
pub mod rule;
pub mod solver;
pub mod train;
pub mod validate;

pub use dataset::{Dataset, Sample};
pub use rule::{OperatingData, Scored};
pub use train::{fit_model, FittedModel, MethodChoice, TrainConfig, TrainError};
pub use validate::{cross_validate, CrossValidation, HeldOut};
