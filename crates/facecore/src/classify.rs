//! The trained classifier: its file format and its inference (probabilities over the known people,
//! then the open-set rule that says `Unknown`).
//!
//! Two methods, chosen at training time:
//! - a one-vs-one linear SVM whose pairwise outputs are calibrated with Platt scaling and coupled
//!   into one distribution (libsvm's method: Platt 2000; Lin, Lin & Weng 2007; Wu, Lin & Weng 2004);
//! - nearest neighbour on embedding distance, for few-shot training sets where calibration is
//!   meaningless (one or two photos of a person).
//!
//! Either way a face is `Unknown` when its top probability is under the threshold, or when it is
//! farther from every training face of the predicted person than the model's distance gate: an SVM
//! spreads probability over the known people even for a stranger.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::embed::{Embedding, EMBEDDING_DIM};
use crate::error::{Error, FormatError};
use crate::format::{read_versioned, write_versioned, FileKind, ModelFingerprint};

pub const MODEL_KIND: &str = "facelabel-model";
pub const MODEL_VERSION: u32 = 1;

pub const MODEL: FileKind = FileKind {
    kind: MODEL_KIND,
    version: MODEL_VERSION,
    producer: "`svm-trainer` (make train)",
};

/// Pairwise probabilities are kept inside (ε, 1-ε), as libsvm does, so coupling stays finite.
const MIN_PAIR_PROBABILITY: f64 = 1e-7;

/// `model.msgpack`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierFile {
    pub kind: String,
    pub version: u32,
    pub producer: String,
    /// The embedding model the training faces came from; faces from another model are refused.
    pub models: ModelFingerprint,
    /// Class names (people), in label order.
    pub classes: Vec<String>,
    pub method: Method,
    /// Probability under which a face is `Unknown` unless the user gives another threshold.
    pub default_threshold: f32,
    /// A face farther than this from every training face of its predicted person is `Unknown`.
    pub unknown_distance: f32,
    /// Training faces, for the distance gate (and the nearest-neighbour method).
    pub training: Vec<TrainingFace>,
    /// How the model was chosen and how well it did in cross-validation.
    pub summary: TrainingSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingFace {
    pub class: u32,
    pub embedding: Embedding,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Svm(SvmModel),
    NearestNeighbour(NearestNeighbourModel),
}

/// One-vs-one linear SVMs with Platt calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmModel {
    /// Regularisation constant the SVMs were fitted with.
    pub c: f64,
    /// One per pair of classes `first < second`; a positive decision value favours `first`.
    pub pairs: Vec<PairModel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairModel {
    pub first: u32,
    pub second: u32,
    pub weights: Vec<f64>,
    pub bias: f64,
    /// Platt's sigmoid: P(first | first or second) = 1 / (1 + exp(a·f + b)).
    pub platt_a: f64,
    pub platt_b: f64,
}

/// Nearest neighbour: probabilities are a softmax of minus the distance to each person's nearest
/// training face, divided by `temperature`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearestNeighbourModel {
    pub temperature: f32,
    /// Why this method was chosen, for the user.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingSummary {
    pub samples: usize,
    pub samples_per_class: Vec<usize>,
    /// Cross-validated accuracy (fraction) of the whole training procedure; `None` when too few
    /// samples to cross-validate.
    pub cv_accuracy: Option<f64>,
    pub cv_folds: usize,
    pub seed: u64,
}

/// The classifier's view of one face.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Probability of each class, summing to 1.
    pub probabilities: Vec<f64>,
    /// The most probable class.
    pub class: usize,
    pub probability: f64,
    /// Distance to the nearest training face of `class`.
    pub distance: f32,
}

/// What to show for a face.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Known { class: usize, probability: f64 },
    Unknown { reason: UnknownReason },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnknownReason {
    LowProbability { probability: f64 },
    TooFar { distance: f32 },
}

/// Errors of the classifier that are not file-format errors.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error(
        "the faces were encoded with embedding model {found}, but the classifier was trained on \
         embeddings of model {expected}; encode and train again with the same models"
    )]
    ModelMismatch { found: String, expected: String },
}

impl ClassifierFile {
    pub fn read(path: &Path) -> Result<ClassifierFile, Error> {
        let file: ClassifierFile = read_versioned(path, &MODEL)?;
        file.validate().map_err(|message| FormatError::Decode {
            path: path.to_path_buf(),
            expected: MODEL_KIND,
            producer: MODEL.producer,
            message,
        })?;
        Ok(file)
    }

    pub fn write(&self, path: &Path) -> Result<(), FormatError> {
        write_versioned(path, self, &MODEL)
    }

    fn validate(&self) -> Result<(), String> {
        let k = self.classes.len() as u32;
        if k == 0 {
            return Err("no classes".into());
        }
        if self.training.iter().any(|t| t.class >= k) {
            return Err("a training face has an unknown class".into());
        }
        if let Method::Svm(svm) = &self.method {
            if svm.pairs.len() != (k as usize * (k as usize - 1)) / 2 {
                return Err(format!("{} pairs for {k} classes", svm.pairs.len()));
            }
            if svm
                .pairs
                .iter()
                .any(|p| p.first >= k || p.second >= k || p.weights.len() != EMBEDDING_DIM)
            {
                return Err("malformed pair model".into());
            }
        }
        Ok(())
    }

    /// Refuses faces embedded by another model than the training faces.
    pub fn check_fingerprint(&self, faces: &ModelFingerprint) -> Result<(), ClassifyError> {
        if faces.embedding_model_sha256 != self.models.embedding_model_sha256 {
            return Err(ClassifyError::ModelMismatch {
                found: faces.embedding_model_sha256.clone(),
                expected: self.models.embedding_model_sha256.clone(),
            });
        }
        Ok(())
    }

    /// Probabilities over the known people and the distance to the winner's training faces.
    pub fn predict(&self, embedding: &Embedding) -> Prediction {
        let probabilities = match &self.method {
            Method::Svm(svm) => svm_probabilities(svm, self.classes.len(), embedding),
            Method::NearestNeighbour(nn) => {
                let distances = self.nearest_per_class(embedding);
                softmax_of_negative(&distances, nn.temperature as f64)
            }
        };
        let (class, &probability) = probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("at least one class");
        let distance = self.nearest_distance(embedding, class);
        Prediction {
            probabilities,
            class,
            probability,
            distance,
        }
    }

    /// `Known` when the top probability reaches `threshold` and the face is within the distance gate.
    pub fn decide(&self, prediction: &Prediction, threshold: f64) -> Decision {
        if prediction.distance > self.unknown_distance {
            return Decision::Unknown {
                reason: UnknownReason::TooFar {
                    distance: prediction.distance,
                },
            };
        }
        if prediction.probability < threshold {
            return Decision::Unknown {
                reason: UnknownReason::LowProbability {
                    probability: prediction.probability,
                },
            };
        }
        Decision::Known {
            class: prediction.class,
            probability: prediction.probability,
        }
    }

    fn nearest_distance(&self, embedding: &Embedding, class: usize) -> f32 {
        self.training
            .iter()
            .filter(|t| t.class as usize == class)
            .map(|t| t.embedding.distance(embedding))
            .fold(f32::INFINITY, f32::min)
    }

    fn nearest_per_class(&self, embedding: &Embedding) -> Vec<f64> {
        let mut nearest = vec![f64::INFINITY; self.classes.len()];
        for face in &self.training {
            let d = face.embedding.distance(embedding) as f64;
            let slot = &mut nearest[face.class as usize];
            *slot = slot.min(d);
        }
        nearest
    }
}

fn softmax_of_negative(distances: &[f64], temperature: f64) -> Vec<f64> {
    let best = distances.iter().cloned().fold(f64::INFINITY, f64::min);
    let weights: Vec<f64> = distances
        .iter()
        .map(|d| (-(d - best) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

/// The decision value of one pair: positive favours `first`.
pub fn decision_value(pair: &PairModel, embedding: &Embedding) -> f64 {
    let mut lanes = [0f64; 8];
    for (w, x) in pair
        .weights
        .chunks_exact(8)
        .zip(embedding.0.chunks_exact(8))
    {
        for lane in 0..8 {
            lanes[lane] += w[lane] * x[lane] as f64;
        }
    }
    lanes.iter().sum::<f64>() + pair.bias
}

/// Platt's sigmoid P(positive | f) = 1 / (1 + exp(a·f + b)), computed without overflow.
pub fn sigmoid_probability(decision: f64, a: f64, b: f64) -> f64 {
    let f_apb = decision * a + b;
    if f_apb >= 0.0 {
        (-f_apb).exp() / (1.0 + (-f_apb).exp())
    } else {
        1.0 / (1.0 + f_apb.exp())
    }
}

fn svm_probabilities(svm: &SvmModel, classes: usize, embedding: &Embedding) -> Vec<f64> {
    let mut pairwise = vec![vec![0.0; classes]; classes];
    for pair in &svm.pairs {
        let p = sigmoid_probability(decision_value(pair, embedding), pair.platt_a, pair.platt_b)
            .clamp(MIN_PAIR_PROBABILITY, 1.0 - MIN_PAIR_PROBABILITY);
        pairwise[pair.first as usize][pair.second as usize] = p;
        pairwise[pair.second as usize][pair.first as usize] = 1.0 - p;
    }
    couple_pairwise(&pairwise)
}

/// Pairwise coupling (Wu, Lin & Weng 2004, method 2; libsvm's `multiclass_probability`):
/// `r[i][j]` ≈ P(i | i or j) → one distribution over the classes.
pub fn couple_pairwise(r: &[Vec<f64>]) -> Vec<f64> {
    let k = r.len();
    let mut p = vec![1.0 / k as f64; k];
    if k == 1 {
        return p;
    }
    let mut q = vec![vec![0.0; k]; k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t][t] += r[j][t] * r[j][t];
                q[t][j] = -r[j][t] * r[t][j];
            }
        }
    }
    let max_iter = 100.max(k);
    let eps = 0.005 / k as f64;
    let mut qp = vec![0.0; k];
    for _ in 0..max_iter {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = (0..k).map(|j| q[t][j] * p[j]).sum();
            pqp += p[t] * qp[t];
        }
        let max_error = qp.iter().map(|v| (v - pqp).abs()).fold(0.0, f64::max);
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupling_recovers_a_consistent_distribution() {
        // Pairwise probabilities generated from p = (0.6, 0.3, 0.1): r_ij = p_i / (p_i + p_j).
        let truth = [0.6, 0.3, 0.1];
        let r: Vec<Vec<f64>> = (0..3)
            .map(|i| {
                (0..3)
                    .map(|j| {
                        if i == j {
                            0.0
                        } else {
                            truth[i] / (truth[i] + truth[j])
                        }
                    })
                    .collect()
            })
            .collect();
        let p = couple_pairwise(&r);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        for (got, want) in p.iter().zip(truth) {
            assert!((got - want).abs() < 0.01, "{p:?}");
        }
    }

    #[test]
    fn sigmoid_is_stable_at_extremes() {
        assert!((sigmoid_probability(0.0, -2.0, 0.0) - 0.5).abs() < 1e-12);
        assert!(sigmoid_probability(1e6, -1.0, 0.0) > 0.999_999);
        assert!(sigmoid_probability(-1e6, -1.0, 0.0) < 1e-6);
        assert!(sigmoid_probability(-1e6, -1.0, 0.0).is_finite());
    }

    #[test]
    fn nearest_neighbour_probabilities_favour_the_closest_person() {
        let p = softmax_of_negative(&[0.3, 0.5, 0.9], 0.05);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[0] > 0.98, "{p:?}");
    }
}
