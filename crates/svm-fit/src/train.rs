//! Fitting the classifier: one-vs-one linear SVMs calibrated as libsvm does, C chosen by
//! cross-validation, or nearest neighbour when some person has too few photos. The strangers, when
//! there are some, are one more class. The decision rule is learned afterwards ([`crate::rule`]).

use classifier::Predictor;
use facefile::format::model::{
    Classifier, DecisionRule, Method, NearestNeighbourModel, PairModel, RuleOrigin, StrangerClass,
    SvmModel, TrainingFace, TrainingSummary,
};
use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::rng::Rng;
use crate::solver::{self, LinearModel};
use crate::{platt, validate};

/// Below this many photos of some person, Platt calibration is meaningless and `auto` falls back to
/// nearest neighbour.
pub const MIN_SAMPLES_FOR_SVM: usize = 5;
/// The C values tried when `--c` is not given.
pub const DEFAULT_C_GRID: [f64; 5] = [0.1, 1.0, 10.0, 100.0, 1000.0];
/// Folds of libsvm's internal cross-validation for Platt scaling.
const PLATT_FOLDS: usize = 5;
/// Nearest-neighbour probabilities: a distance gap of this share of the embedder's published
/// same-person distance is e:1 odds (dlib: 0.05, so a gap of 0.1 ≈ 7:1).
const NN_TEMPERATURE_SHARE: f32 = 1.0 / 12.0;
/// The precision the decision rule keeps by default.
pub const DEFAULT_PRECISION_TARGET: f64 = 0.98;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("no embeddings to train on")]
    Empty,
    #[error(
        "only one person ({0}); a classifier needs photos of at least two people, or of one \
         person and of strangers (people who are not members, in data/.strangers/<anyone>/)"
    )]
    OneClass(String),
    #[error("{0} has no photos")]
    EmptyClass(String),
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
    /// Without strangers: the precision the learned decision rule must keep on held-out photos
    /// and simulated strangers.
    pub precision_target: f64,
    /// With strangers: the share of strangers' photos (each unseen by the model scoring it) the
    /// rule may name.
    pub stranger_share: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            c: None,
            c_grid: DEFAULT_C_GRID.to_vec(),
            folds: 5,
            seed: 0,
            method: MethodChoice::Auto,
            precision_target: DEFAULT_PRECISION_TARGET,
            stranger_share: crate::rule::strangers::DEFAULT_STRANGER_SHARE,
        }
    }
}

/// What to fit, once decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Svm { c: f64 },
    NearestNeighbour { reason: String },
}

pub(crate) fn check(dataset: &Dataset) -> Result<(), TrainError> {
    if dataset.is_empty() || dataset.members() == 0 {
        return Err(TrainError::Empty);
    }
    if dataset.classes.len() < 2 {
        return Err(TrainError::OneClass(dataset.classes[0].clone()));
    }
    if let Some(i) = dataset.counts().iter().position(|&c| c == 0) {
        return Err(TrainError::EmptyClass(dataset.classes[i].clone()));
    }
    Ok(())
}

/// Decides the method (and C, searching it when not given).
pub fn plan(dataset: &Dataset, config: &TrainConfig) -> (Plan, Vec<(f64, f64)>) {
    let counts = dataset.counts();
    let min_count = *counts.iter().min().expect("classes");
    let use_svm = dataset.classes.len() >= 2
        && match config.method {
            MethodChoice::Svm => true,
            MethodChoice::NearestNeighbour => false,
            MethodChoice::Auto => min_count >= MIN_SAMPLES_FOR_SVM,
        };
    if use_svm {
        return match config.c {
            Some(c) => (Plan::Svm { c }, Vec::new()),
            None => {
                let search = search_c(dataset, &config.c_grid, config.folds, config.seed);
                (Plan::Svm { c: best_c(&search) }, search)
            }
        };
    }
    let fewest = counts
        .iter()
        .position(|&c| c == min_count)
        .expect("min exists");
    let reason = match config.method {
        MethodChoice::NearestNeighbour => "asked for with --method nn".to_string(),
        _ if dataset.classes.len() < 2 => "a single person".to_string(),
        _ => format!(
            "{} has only {min_count} photo(s); a calibrated SVM needs at least {MIN_SAMPLES_FOR_SVM} per person",
            dataset.classes[fewest]
        ),
    };
    (Plan::NearestNeighbour { reason }, Vec::new())
}

/// A classifier fitted with `plan` (its rule is a placeholder until [`rule::learn`] sets it).
pub fn fit_plan(dataset: &Dataset, plan: &Plan, seed: u64) -> Classifier {
    let method = match plan {
        Plan::Svm { c } if dataset.classes.len() >= 2 => Method::Svm(fit_svm(dataset, *c, seed)),
        Plan::Svm { .. } => nearest_neighbour(dataset, "a single person".into()),
        Plan::NearestNeighbour { reason } => nearest_neighbour(dataset, reason.clone()),
    };
    let published = dataset.embedder.published_same_person_distance();
    Classifier {
        classes: dataset.classes[..dataset.members()].to_vec(),
        strangers: dataset.strangers.then(|| StrangerClass {
            people: dataset.stranger_people.len(),
            photos: dataset
                .stranger_of_photo
                .iter()
                .filter(|s| s.is_some())
                .count(),
        }),
        method,
        training: dataset
            .labels
            .iter()
            .zip(&dataset.embeddings)
            .map(|(&class, embedding)| TrainingFace {
                class,
                embedding: embedding.clone(),
            })
            .collect(),
        rule: DecisionRule {
            min_probability: 0.0,
            max_distance: Some(published),
            split_distance: published,
            origin: RuleOrigin::Published {
                reason: "not learned yet".into(),
            },
        },
        summary: TrainingSummary::default(),
        colours: Vec::new(),
        small_faces: None,
    }
}

fn nearest_neighbour(dataset: &Dataset, reason: String) -> Method {
    Method::NearestNeighbour(NearestNeighbourModel {
        temperature: dataset.embedder.published_same_person_distance() * NN_TEMPERATURE_SHARE,
        reason,
    })
}

/// All pairs `(i, j)`, `i < j`, in libsvm's order.
fn class_pairs(k: usize) -> Vec<(usize, usize)> {
    (0..k)
        .flat_map(|i| ((i + 1)..k).map(move |j| (i, j)))
        .collect()
}

/// The rows of classes `i` and `j`, whether each is of class `i`, and its photo.
fn pair_data<'a>(
    rows: &'a [Vec<f64>],
    labels: &[u32],
    photos: &[u32],
    i: usize,
    j: usize,
) -> (Vec<&'a [f64]>, Vec<bool>, Vec<u32>) {
    let mut x = Vec::new();
    let mut positive = Vec::new();
    let mut groups = Vec::new();
    for ((row, &label), &photo) in rows.iter().zip(labels).zip(photos) {
        if label as usize == i || label as usize == j {
            x.push(row.as_slice());
            positive.push(label as usize == i);
            groups.push(photo);
        }
    }
    (x, positive, groups)
}

fn fit_svm(dataset: &Dataset, c: f64, seed: u64) -> SvmModel {
    let rows = dataset.rows();
    let k = dataset.classes.len();
    let pairs = class_pairs(k)
        .into_par_iter()
        .map(|(i, j)| {
            let (x, positive, groups) = pair_data(&rows, &dataset.labels, &dataset.photos, i, j);
            let mut rng = Rng::stream(seed, (i * k + j) as u64);
            let model = solver::fit(&x, &positive, c, &mut rng).expect("both classes present");
            let decisions = platt_decisions(&x, &positive, &groups, c, &mut rng);
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
/// `svm_binary_svc_probability`: 5 random folds; here of photos, so a photo's views stay together).
fn platt_decisions(
    x: &[&[f64]],
    positive: &[bool],
    groups: &[u32],
    c: f64,
    rng: &mut Rng,
) -> Vec<f64> {
    let mut photos: Vec<u32> = groups.to_vec();
    photos.sort_unstable();
    photos.dedup();
    rng.shuffle(&mut photos);
    // Rows in the shuffled order of their photos (with one row per photo, libsvm's own order), and
    // the fold of each: folds are consecutive runs of photos.
    let n = photos.len();
    let mut rows_of_photo: std::collections::HashMap<u32, Vec<usize>> = Default::default();
    for (row, &group) in groups.iter().enumerate() {
        rows_of_photo.entry(group).or_default().push(row);
    }
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(x.len());
    for (position, photo) in photos.iter().enumerate() {
        let fold = (0..PLATT_FOLDS)
            .find(|&f| position < (f + 1) * n / PLATT_FOLDS)
            .unwrap_or(PLATT_FOLDS - 1);
        order.extend(rows_of_photo[photo].iter().map(|&row| (row, fold)));
    }
    let mut decisions = vec![0.0; x.len()];
    for fold in 0..PLATT_FOLDS {
        let train: Vec<usize> = order
            .iter()
            .filter(|&&(_, f)| f != fold)
            .map(|&(row, _)| row)
            .collect();
        let train_x: Vec<&[f64]> = train.iter().map(|&t| x[t]).collect();
        let train_y: Vec<bool> = train.iter().map(|&t| positive[t]).collect();
        let model = solver::fit(&train_x, &train_y, c, rng);
        for &(h, _) in order.iter().filter(|&&(_, f)| f == fold) {
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

/// Accuracy of one-vs-one voting for each C, by stratified cross-validation over photos.
pub fn search_c(dataset: &Dataset, grid: &[f64], folds: usize, seed: u64) -> Vec<(f64, f64)> {
    let min_count = *dataset.counts().iter().min().unwrap_or(&0);
    let folds = folds.min(min_count).max(2);
    let fold_of_photo = validate::stratified_folds(&dataset.photo_labels(), folds, seed);
    let rows = dataset.rows();
    let k = dataset.classes.len();
    let scored: Vec<usize> = (0..dataset.len()).filter(|&i| dataset.primary[i]).collect();
    grid.par_iter()
        .map(|&c| {
            let correct: usize = (0..folds)
                .into_par_iter()
                .map(|fold| {
                    let train: Vec<usize> = (0..dataset.len())
                        .filter(|&i| fold_of_photo[dataset.photos[i] as usize] != fold)
                        .collect();
                    let train_rows: Vec<Vec<f64>> =
                        train.iter().map(|&i| rows[i].clone()).collect();
                    let train_labels: Vec<u32> = train.iter().map(|&i| dataset.labels[i]).collect();
                    let train_photos: Vec<u32> = train.iter().map(|&i| dataset.photos[i]).collect();
                    let models: Vec<((usize, usize), Option<LinearModel>)> = class_pairs(k)
                        .into_iter()
                        .map(|(i, j)| {
                            let (x, positive, _) =
                                pair_data(&train_rows, &train_labels, &train_photos, i, j);
                            let mut rng = Rng::stream(seed ^ fold as u64, (i * k + j) as u64);
                            ((i, j), solver::fit(&x, &positive, c, &mut rng))
                        })
                        .collect();
                    scored
                        .iter()
                        .filter(|&&i| fold_of_photo[dataset.photos[i] as usize] == fold)
                        .filter(|&&i| vote(&models, k, &rows[i]) == dataset.labels[i] as usize)
                        .count()
                })
                .sum();
            (c, correct as f64 / scored.len().max(1) as f64)
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

/// Predictions of `model` for the photos of `dataset` that `held_out` selects, each scored as the
/// labeler scores a face (its probe): (photo, prediction).
pub(crate) fn predict_photos(
    model: &Classifier,
    dataset: &Dataset,
    held_out: impl Fn(u32) -> bool,
) -> Vec<(usize, classifier::Prediction)> {
    let predictor = Predictor::new(model);
    (0..dataset.photo_count())
        .filter(|&p| held_out(p as u32))
        .map(|p| (p, predictor.predict(&dataset.probes[p])))
        .collect()
}
