//! `svm-fit`: training the classifier that `facecore::classify` runs.
//!
//! - [`solver`]: binary linear SVM by dual coordinate descent (LIBLINEAR's algorithm).
//! - [`platt`]: Platt scaling of decision values into probabilities.
//! - [`train`](fit_model): one-vs-one SVMs, each calibrated on internal cross-validation (libsvm's
//!   recipe), C chosen by stratified cross-validation, or nearest neighbour for few-shot data.
//! - [`cross_validate`]: an honest estimate of the whole procedure (nested when C is searched).

pub mod platt;
pub mod rng;
pub mod solver;

use facecore::classify::{
    ClassifierFile, Method, NearestNeighbourModel, PairModel, Prediction, SvmModel, TrainingFace,
    TrainingSummary, MODEL_KIND, MODEL_VERSION,
};
use facecore::{Embedding, ModelFingerprint};
use rayon::prelude::*;

use rng::Rng;
use solver::LinearModel;

/// Below this many photos of some person, Platt calibration is meaningless and `auto` falls back to
/// nearest neighbour.
pub const MIN_SAMPLES_FOR_SVM: usize = 5;
/// dlib's same-person distance on LFW; the distance gate never exceeds it.
pub const DLIB_SAME_PERSON_DISTANCE: f32 = 0.6;
/// Softmax temperature of nearest-neighbour probabilities (a distance gap of 0.1 ≈ 7:1 odds).
pub const NN_TEMPERATURE: f32 = 0.05;
/// The C values tried when `--c` is not given.
pub const DEFAULT_C_GRID: [f64; 5] = [0.1, 1.0, 10.0, 100.0, 1000.0];
/// Folds of libsvm's internal cross-validation for Platt scaling.
const PLATT_FOLDS: usize = 5;

/// Labelled embeddings.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub classes: Vec<String>,
    pub labels: Vec<u32>,
    pub embeddings: Vec<Embedding>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("no embeddings to train on")]
    Empty,
    #[error("only one person ({0}); a classifier needs photos of at least two people")]
    OneClass(String),
    #[error("{0} has no photos")]
    EmptyClass(String),
}

impl Dataset {
    /// Builds a dataset from `(name, embedding)` pairs; classes are sorted by name.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, Embedding)>) -> Dataset {
        let pairs: Vec<(&str, Embedding)> = pairs.into_iter().collect();
        let mut classes: Vec<String> = pairs.iter().map(|(n, _)| n.to_string()).collect();
        classes.sort();
        classes.dedup();
        let labels = pairs
            .iter()
            .map(|(n, _)| {
                classes
                    .binary_search_by(|c| c.as_str().cmp(n))
                    .expect("class listed") as u32
            })
            .collect();
        Dataset {
            classes,
            labels,
            embeddings: pairs.into_iter().map(|(_, e)| e).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            classes: self.classes.clone(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            embeddings: indices.iter().map(|&i| self.embeddings[i]).collect(),
        }
    }

    fn check(&self) -> Result<(), TrainError> {
        if self.is_empty() {
            return Err(TrainError::Empty);
        }
        if self.classes.len() < 2 {
            return Err(TrainError::OneClass(self.classes[0].clone()));
        }
        if let Some(i) = self.counts().iter().position(|&c| c == 0) {
            return Err(TrainError::EmptyClass(self.classes[i].clone()));
        }
        Ok(())
    }
}

/// Which method to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodChoice {
    /// SVM when every person has at least [`MIN_SAMPLES_FOR_SVM`] photos, else nearest neighbour.
    Auto,
    Svm,
    NearestNeighbour,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// A fixed C; `None` searches `c_grid` by cross-validation.
    pub c: Option<f64>,
    pub c_grid: Vec<f64>,
    pub folds: usize,
    pub seed: u64,
    pub method: MethodChoice,
    pub threshold: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            c: None,
            c_grid: DEFAULT_C_GRID.to_vec(),
            folds: 5,
            seed: 0,
            method: MethodChoice::Auto,
            threshold: 0.7,
        }
    }
}

/// A fitted model and how it was chosen.
#[derive(Debug, Clone)]
pub struct FittedModel {
    pub file: ClassifierFile,
    /// Cross-validated accuracy of each C tried (empty when C was fixed or no SVM was fitted).
    pub c_search: Vec<(f64, f64)>,
}

fn rows(dataset: &Dataset) -> Vec<Vec<f64>> {
    dataset
        .embeddings
        .iter()
        .map(|e| e.0.iter().map(|&v| v as f64).collect())
        .collect()
}

/// Fits the classifier on the whole dataset.
pub fn fit_model(
    dataset: &Dataset,
    config: &TrainConfig,
    models: ModelFingerprint,
) -> Result<FittedModel, TrainError> {
    dataset.check()?;
    let counts = dataset.counts();
    let min_count = *counts.iter().min().expect("classes");
    let use_svm = match config.method {
        MethodChoice::Svm => true,
        MethodChoice::NearestNeighbour => false,
        MethodChoice::Auto => min_count >= MIN_SAMPLES_FOR_SVM,
    };
    let mut c_search = Vec::new();
    let method = if use_svm {
        let c = match config.c {
            Some(c) => c,
            None => {
                c_search = search_c(dataset, &config.c_grid, config.folds, config.seed);
                best_c(&c_search)
            }
        };
        Method::Svm(fit_svm(dataset, c, config.seed))
    } else {
        let fewest = counts
            .iter()
            .position(|&c| c == min_count)
            .expect("min exists");
        let reason = match config.method {
            MethodChoice::NearestNeighbour => "asked for with --method nn".to_string(),
            _ => format!(
                "{} has only {min_count} photo(s); a calibrated SVM needs at least {MIN_SAMPLES_FOR_SVM} per person",
                dataset.classes[fewest]
            ),
        };
        Method::NearestNeighbour(NearestNeighbourModel {
            temperature: NN_TEMPERATURE,
            reason,
        })
    };
    let file = ClassifierFile {
        kind: MODEL_KIND.to_string(),
        version: MODEL_VERSION,
        producer: String::new(),
        models,
        classes: dataset.classes.clone(),
        method,
        default_threshold: config.threshold as f32,
        unknown_distance: unknown_distance(dataset),
        training: dataset
            .labels
            .iter()
            .zip(&dataset.embeddings)
            .map(|(&class, &embedding)| TrainingFace { class, embedding })
            .collect(),
        summary: TrainingSummary {
            samples: dataset.len(),
            samples_per_class: counts,
            cv_accuracy: None,
            cv_folds: config.folds,
            seed: config.seed,
        },
    };
    Ok(FittedModel { file, c_search })
}

/// All pairs `(i, j)`, `i < j`, in libsvm's order.
fn class_pairs(k: usize) -> Vec<(usize, usize)> {
    (0..k)
        .flat_map(|i| ((i + 1)..k).map(move |j| (i, j)))
        .collect()
}

/// The rows of classes `i` and `j`, and whether each is of class `i`.
fn pair_data<'a>(
    rows: &'a [Vec<f64>],
    labels: &[u32],
    i: usize,
    j: usize,
) -> (Vec<&'a [f64]>, Vec<bool>) {
    rows.iter()
        .zip(labels)
        .filter(|(_, &l)| l as usize == i || l as usize == j)
        .map(|(r, &l)| (r.as_slice(), l as usize == i))
        .unzip()
}

fn fit_svm(dataset: &Dataset, c: f64, seed: u64) -> SvmModel {
    let rows = rows(dataset);
    let k = dataset.classes.len();
    let pairs = class_pairs(k)
        .into_par_iter()
        .map(|(i, j)| {
            let (x, positive) = pair_data(&rows, &dataset.labels, i, j);
            let mut rng = Rng::stream(seed, (i * k + j) as u64);
            let model = solver::fit(&x, &positive, c, &mut rng).expect("both classes present");
            let decisions = platt_decisions(&x, &positive, c, &mut rng);
            let (platt_a, platt_b) = platt::fit_sigmoid(&decisions, &positive);
            PairModel {
                first: i as u32,
                second: j as u32,
                weights: model.weights,
                bias: model.bias,
                platt_a,
                platt_b,
            }
        })
        .collect();
    SvmModel { c, pairs }
}

/// Decision values of each point from a model that did not see it (libsvm's
/// `svm_binary_svc_probability`: 5 random folds).
fn platt_decisions(x: &[&[f64]], positive: &[bool], c: f64, rng: &mut Rng) -> Vec<f64> {
    let n = x.len();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut decisions = vec![0.0; n];
    for fold in 0..PLATT_FOLDS {
        let (start, end) = (fold * n / PLATT_FOLDS, (fold + 1) * n / PLATT_FOLDS);
        let held_out = &order[start..end];
        let train: Vec<usize> = order[..start]
            .iter()
            .chain(&order[end..])
            .copied()
            .collect();
        let train_x: Vec<&[f64]> = train.iter().map(|&t| x[t]).collect();
        let train_y: Vec<bool> = train.iter().map(|&t| positive[t]).collect();
        let model = solver::fit(&train_x, &train_y, c, rng);
        for &h in held_out {
            decisions[h] = match &model {
                Some(model) => model.decision(x[h]),
                // One class only in the training part: libsvm's convention.
                None if train_y.first() == Some(&true) => 1.0,
                None if train_y.is_empty() => 0.0,
                None => -1.0,
            };
        }
    }
    decisions
}

/// Stratified folds: each class's samples are shuffled and dealt round-robin, so every fold has
/// about the same share of each person. Returns the fold of each sample.
pub fn stratified_folds(labels: &[u32], folds: usize, seed: u64) -> Vec<usize> {
    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut rng = Rng::new(seed);
    let mut assignment = vec![0; labels.len()];
    let mut next = 0;
    for class in 0..classes {
        let mut members: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] as usize == class)
            .collect();
        rng.shuffle(&mut members);
        for m in members {
            assignment[m] = next % folds;
            next += 1;
        }
    }
    assignment
}

/// Accuracy of one-vs-one voting for each C, by stratified cross-validation.
pub fn search_c(dataset: &Dataset, grid: &[f64], folds: usize, seed: u64) -> Vec<(f64, f64)> {
    let min_count = *dataset.counts().iter().min().unwrap_or(&0);
    let folds = folds.min(min_count).max(2);
    let assignment = stratified_folds(&dataset.labels, folds, seed);
    let rows = rows(dataset);
    let k = dataset.classes.len();
    grid.par_iter()
        .map(|&c| {
            let correct: usize = (0..folds)
                .into_par_iter()
                .map(|fold| {
                    let train: Vec<usize> = (0..dataset.len())
                        .filter(|&i| assignment[i] != fold)
                        .collect();
                    let train_rows: Vec<Vec<f64>> =
                        train.iter().map(|&i| rows[i].clone()).collect();
                    let train_labels: Vec<u32> = train.iter().map(|&i| dataset.labels[i]).collect();
                    let models: Vec<((usize, usize), Option<LinearModel>)> = class_pairs(k)
                        .into_iter()
                        .map(|(i, j)| {
                            let (x, positive) = pair_data(&train_rows, &train_labels, i, j);
                            let mut rng = Rng::stream(seed ^ fold as u64, (i * k + j) as u64);
                            ((i, j), solver::fit(&x, &positive, c, &mut rng))
                        })
                        .collect();
                    (0..dataset.len())
                        .filter(|&i| assignment[i] == fold)
                        .filter(|&i| vote(&models, k, &rows[i]) == dataset.labels[i] as usize)
                        .count()
                })
                .sum();
            (c, correct as f64 / dataset.len() as f64)
        })
        .collect()
}

/// The best C; ties go to the smallest (the most regularised).
pub fn best_c(search: &[(f64, f64)]) -> f64 {
    let best = search
        .iter()
        .map(|&(_, a)| a)
        .fold(f64::NEG_INFINITY, f64::max);
    search
        .iter()
        .filter(|&&(_, a)| a >= best - 1e-12)
        .map(|&(c, _)| c)
        .fold(f64::INFINITY, f64::min)
}

fn vote(models: &[((usize, usize), Option<LinearModel>)], k: usize, x: &[f64]) -> usize {
    let mut votes = vec![0usize; k];
    for ((i, j), model) in models {
        if let Some(model) = model {
            votes[if model.decision(x) > 0.0 { *i } else { *j }] += 1;
        }
    }
    // First maximum, as libsvm breaks ties.
    let max = *votes.iter().max().expect("classes");
    votes.iter().position(|&v| v == max).expect("max exists")
}

/// Same-person distances needed before the gate is measured from the data rather than dlib's 0.6.
pub const MIN_DISTANCES_FOR_GATE: usize = 20;

/// The distance gate: the 99th percentile of each training face's distance to the nearest other
/// photo of the same person (plus 0.05), capped at dlib's 0.6. Taken from the data because look-alike
/// groups break the 0.6 rule; 0.6 when there are too few repeated photos to measure (few-shot).
pub fn unknown_distance(dataset: &Dataset) -> f32 {
    let mut nearest_same: Vec<f32> = (0..dataset.len())
        .into_par_iter()
        .map(|i| {
            let (a, la) = (&dataset.embeddings[i], dataset.labels[i]);
            dataset
                .embeddings
                .iter()
                .zip(&dataset.labels)
                .enumerate()
                .filter(|&(j, (_, &lb))| j != i && lb == la)
                .map(|(_, (b, _))| a.distance(b))
                .fold(f32::INFINITY, f32::min)
        })
        .filter(|d| d.is_finite())
        .collect();
    if nearest_same.len() < MIN_DISTANCES_FOR_GATE {
        return DLIB_SAME_PERSON_DISTANCE;
    }
    nearest_same.sort_by(f32::total_cmp);
    let q99 = nearest_same[((nearest_same.len() - 1) as f64 * 0.99).round() as usize];
    (q99 + 0.05).min(DLIB_SAME_PERSON_DISTANCE)
}

/// One held-out prediction.
#[derive(Debug, Clone)]
pub struct HeldOut {
    pub truth: usize,
    pub prediction: Prediction,
    /// Whether the model would show a name (probability ≥ threshold and within the distance gate).
    pub known: bool,
}

/// Cross-validation of the whole procedure (C search included, so nested when C is not fixed).
#[derive(Debug, Clone)]
pub struct CrossValidation {
    pub folds: usize,
    pub held_out: Vec<HeldOut>,
}

impl CrossValidation {
    pub fn accuracy(&self) -> f64 {
        let correct = self
            .held_out
            .iter()
            .filter(|h| h.prediction.class == h.truth)
            .count();
        correct as f64 / self.held_out.len().max(1) as f64
    }
}

/// Stratified k-fold cross-validation; `None` when some person has fewer than two photos.
pub fn cross_validate(
    dataset: &Dataset,
    config: &TrainConfig,
) -> Result<Option<CrossValidation>, TrainError> {
    dataset.check()?;
    let min_count = *dataset.counts().iter().min().expect("classes");
    if min_count < 2 {
        return Ok(None);
    }
    let folds = config.folds.min(min_count).max(2);
    let assignment = stratified_folds(&dataset.labels, folds, config.seed);
    let per_fold: Vec<Vec<(usize, HeldOut)>> = (0..folds)
        .into_par_iter()
        .map(|fold| {
            let train: Vec<usize> = (0..dataset.len())
                .filter(|&i| assignment[i] != fold)
                .collect();
            let model = fit_model(&dataset.subset(&train), config, ModelFingerprint::current())
                .expect("each training fold keeps every class")
                .file;
            (0..dataset.len())
                .filter(|&i| assignment[i] == fold)
                .map(|i| {
                    let prediction = model.predict(&dataset.embeddings[i]);
                    let known = matches!(
                        model.decide(&prediction, config.threshold),
                        facecore::Decision::Known { .. }
                    );
                    (
                        i,
                        HeldOut {
                            truth: dataset.labels[i] as usize,
                            prediction,
                            known,
                        },
                    )
                })
                .collect()
        })
        .collect();
    let mut held_out: Vec<(usize, HeldOut)> = per_fold.into_iter().flatten().collect();
    held_out.sort_by_key(|(i, _)| *i);
    Ok(Some(CrossValidation {
        folds,
        held_out: held_out.into_iter().map(|(_, h)| h).collect(),
    }))
}
