//! Cross-validation over photos: stratified folds (each person's photos shuffled and dealt round
//! robin), a photo's extra views always in its fold, only photos themselves scored.

use classifier::Prediction;
use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::rng::Rng;
use crate::train::{self, check, TrainConfig, TrainError};

/// Stratified folds: each class's items are shuffled and dealt round-robin, so every fold has
/// about the same share of each person. Returns the fold of each item.
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

/// One held-out photo's prediction.
#[derive(Debug, Clone)]
pub struct HeldOut {
    /// The photo, numbered as in the dataset.
    pub photo: usize,
    pub truth: usize,
    /// The most probable class, the strangers' (numbered after the members) included.
    pub predicted: usize,
    pub prediction: Prediction,
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
            .filter(|h| h.predicted == h.truth)
            .count();
        correct as f64 / self.held_out.len().max(1) as f64
    }
}

/// Stratified k-fold cross-validation of the closed-set classifier (who is it, among the known
/// people); `None` when some person has fewer than two photos.
pub fn cross_validate(
    dataset: &Dataset,
    config: &TrainConfig,
) -> Result<Option<CrossValidation>, TrainError> {
    check(dataset)?;
    let min_count = *dataset.counts().iter().min().expect("classes");
    if min_count < 2 {
        return Ok(None);
    }
    let folds = config.folds.min(min_count).max(2);
    let labels = dataset.photo_labels();
    let fold_of_photo = stratified_folds(&labels, folds, config.seed);
    let per_fold: Vec<Vec<(usize, HeldOut)>> = (0..folds)
        .into_par_iter()
        .map(|fold| {
            let training = dataset.subset(|p| fold_of_photo[p as usize] != fold);
            let (plan, _) = train::plan(&training, config);
            let model = train::fit_plan(&training, &plan, config.seed);
            train::predict_photos(&model, dataset, |p| fold_of_photo[p as usize] == fold)
                .into_iter()
                .map(|(photo, prediction)| {
                    let predicted =
                        if dataset.strangers && prediction.stranger > prediction.probability {
                            dataset.members()
                        } else {
                            prediction.class
                        };
                    (
                        photo,
                        HeldOut {
                            photo,
                            truth: labels[photo] as usize,
                            predicted,
                            prediction,
                        },
                    )
                })
                .collect()
        })
        .collect();
    let mut held_out: Vec<(usize, HeldOut)> = per_fold.into_iter().flatten().collect();
    held_out.sort_by_key(|(photo, _)| *photo);
    Ok(Some(CrossValidation {
        folds,
        held_out: held_out.into_iter().map(|(_, h)| h).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified() {
        let labels = [0, 0, 0, 0, 1, 1, 1, 1];
        let folds = stratified_folds(&labels, 2, 7);
        for fold in 0..2 {
            for class in 0..2 {
                let n = (0..8)
                    .filter(|&i| folds[i] == fold && labels[i] == class)
                    .count();
                assert_eq!(n, 2, "{folds:?}");
            }
        }
    }
}
