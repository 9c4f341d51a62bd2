//! The whole fit: the method (and C) chosen, the classifier fitted on every photo, then its
//! decision rule learned ([`crate::rule`]).

use facefile::format::model::{Classifier, TrainingSummary};

use crate::dataset::Dataset;
use crate::rule::{self, Evidence};
use crate::train::{self, TrainConfig, TrainError};

/// A fitted model and how it was chosen.
#[derive(Debug, Clone)]
pub struct FittedModel {
    pub classifier: Classifier,
    /// Cross-validated accuracy of each C tried (empty when C was fixed or no SVM was fitted).
    pub c_search: Vec<(f64, f64)>,
    /// The held-out predictions the decision rule was chosen on.
    pub evidence: Evidence,
}

/// Fits the classifier on the whole dataset, then learns its decision rule.
pub fn fit_model(dataset: &Dataset, config: &TrainConfig) -> Result<FittedModel, TrainError> {
    train::check(dataset)?;
    let (plan, c_search) = train::plan(dataset, config);
    let mut classifier = train::fit_plan(dataset, &plan, config.seed);
    let (rule, evidence) = rule::learn(dataset, &plan, config);
    classifier.rule = rule;
    classifier.summary = TrainingSummary {
        samples: dataset.photo_count(),
        samples_per_class: dataset.counts(),
        cv_accuracy: None,
        cv_folds: config.folds,
        seed: config.seed,
        data_folders: Vec::new(),
    };
    Ok(FittedModel {
        classifier,
        c_search,
        evidence,
    })
}
