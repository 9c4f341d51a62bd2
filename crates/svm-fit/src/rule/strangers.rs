//! The decision rule set on strangers: photos of people who are not members.
//!
//! The model is trained with the strangers as one more class ("someone else"), so a face that looks
//! like the scene in general rather than like one member gets its probability there. The bar a
//! member's probability must reach is set on strangers the model has never seen: the strangers
//! are split into groups of whole people, and each group's photos are scored by a model trained
//! without them (their own faces would otherwise be recognised as "someone else" far too easily).
//! The bar is the lowest that names at most `share` of those photos.
//!
//! Why not the members' own photos: video faces sit much farther from the photos than photos from
//! each other, so limits learned from held-out photos alone are too strict for video and lose whole
//! members when there are few photos; strangers of the same kind are what the labeler must refuse.

use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::rng::Rng;
use crate::train::{self, Plan, TrainConfig};
use crate::validate::stratified_folds;

/// The share of strangers' photos the rule may name, by default.
pub const DEFAULT_STRANGER_SHARE: f64 = 0.01;
/// Fewer strangers than this tell too little about who else is out there: the members-only rule is
/// used, and the trainer says so.
pub const MIN_STRANGER_PEOPLE: usize = 3;
pub const MIN_STRANGER_PHOTOS: usize = 10;
/// The strangers are held out in at most this many groups of people (one model each).
const MAX_STRANGER_FOLDS: usize = 20;

/// Held-out scores the threshold is set on, and measured with.
#[derive(Debug, Clone, Default)]
pub struct StrangerScores {
    /// Each stranger's photo: the highest member probability a model that never saw that person
    /// gives it.
    pub strangers: Vec<f64>,
    /// Each member's photo, scored by a model cross-validated without it: the top member's
    /// probability and whether she is the right one.
    pub members: Vec<(f64, bool)>,
    /// Different people among the strangers.
    pub people: usize,
}

/// How a threshold does on the held-out scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrangerMeasure {
    pub stranger_acceptance: f64,
    pub coverage: f64,
    pub wrong: f64,
}

impl StrangerScores {
    /// The lowest threshold that names at most `share` of the strangers' photos. With fewer than
    /// 1/`share` photos none may be named: the bar sits just above the best-scoring stranger.
    pub fn threshold(&self, share: f64) -> f64 {
        let mut scores = self.strangers.clone();
        scores.sort_by(|a, b| b.total_cmp(a));
        let allowed = (share * scores.len() as f64 + 1e-9).floor() as usize;
        match scores.get(allowed) {
            // Just above the first stranger that must stay unnamed.
            Some(&score) => (score + 1e-6).min(1.0),
            None => 0.0,
        }
    }

    pub fn measure(&self, threshold: f64) -> StrangerMeasure {
        let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
        let named = self.strangers.iter().filter(|&&p| p >= threshold).count();
        let right = self
            .members
            .iter()
            .filter(|&&(p, correct)| p >= threshold && correct)
            .count();
        let wrong = self
            .members
            .iter()
            .filter(|&&(p, correct)| p >= threshold && !correct)
            .count();
        StrangerMeasure {
            stranger_acceptance: share(named, self.strangers.len()),
            coverage: share(right, self.members.len()),
            wrong: share(wrong, self.members.len()),
        }
    }
}

/// Whether `dataset` holds enough strangers to set the rule on them.
pub fn enough(dataset: &Dataset) -> bool {
    let photos = dataset.stranger_of_photo.iter().flatten().count();
    dataset.stranger_people.len() >= MIN_STRANGER_PEOPLE && photos >= MIN_STRANGER_PHOTOS
}

/// The held-out scores of a model fitted with `plan` on `dataset` (which has strangers).
pub fn scores(dataset: &Dataset, plan: &Plan, config: &TrainConfig) -> StrangerScores {
    let people = dataset.stranger_people.len();
    let folds = people.clamp(1, MAX_STRANGER_FOLDS);
    // Whole people are dealt to the folds in a seeded random order.
    let mut order: Vec<usize> = (0..people).collect();
    Rng::new(config.seed ^ 0x57a9).shuffle(&mut order);
    let mut fold_of_person = vec![0; people];
    for (position, &person) in order.iter().enumerate() {
        fold_of_person[person] = position % folds;
    }
    let fold_of_photo = |photo: u32| {
        dataset.stranger_of_photo[photo as usize].map(|person| fold_of_person[person as usize])
    };
    let strangers: Vec<f64> = (0..folds)
        .into_par_iter()
        .flat_map_iter(|fold| {
            let training = dataset.subset(|p| fold_of_photo(p) != Some(fold));
            let model = train::fit_plan(&training, plan, config.seed);
            train::predict_photos(&model, dataset, |p| fold_of_photo(p) == Some(fold))
                .into_iter()
                .map(|(_, prediction)| prediction.probability)
        })
        .collect();
    StrangerScores {
        strangers,
        members: member_scores(dataset, plan, config),
        people,
    }
}

/// Each member's photo scored by a model trained without it (all strangers kept in training).
fn member_scores(dataset: &Dataset, plan: &Plan, config: &TrainConfig) -> Vec<(f64, bool)> {
    let labels = dataset.photo_labels();
    let members = dataset.members() as u32;
    let member_photos: Vec<u32> = (0..labels.len() as u32)
        .filter(|&p| labels[p as usize] < members)
        .collect();
    let counts = dataset.counts();
    let fewest = counts[..members as usize]
        .iter()
        .copied()
        .min()
        .unwrap_or(0);
    if fewest < 2 {
        return Vec::new();
    }
    let folds = config.folds.min(fewest).max(2);
    let member_labels: Vec<u32> = member_photos.iter().map(|&p| labels[p as usize]).collect();
    let mut fold_of_photo = vec![None; labels.len()];
    for (&photo, fold) in member_photos.iter().zip(stratified_folds(
        &member_labels,
        folds,
        config.seed ^ 0x5eed,
    )) {
        fold_of_photo[photo as usize] = Some(fold);
    }
    (0..folds)
        .into_par_iter()
        .flat_map_iter(|fold| {
            let training = dataset.subset(|p| fold_of_photo[p as usize] != Some(fold));
            let model = train::fit_plan(&training, plan, config.seed);
            train::predict_photos(&model, dataset, |p| fold_of_photo[p as usize] == Some(fold))
                .into_iter()
                .map(|(photo, prediction)| {
                    (
                        prediction.probability,
                        prediction.class as u32 == labels[photo],
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_names_at_most_the_share_of_strangers() {
        let scores = StrangerScores {
            strangers: (0..200).map(|i| i as f64 / 1000.0).collect(),
            members: vec![(0.9, true), (0.3, true), (0.199, false), (0.1, true)],
            people: 20,
        };
        // 1 % of 200: the two best strangers (0.199, 0.198) may be named, the third may not.
        let bar = scores.threshold(0.01);
        assert!(bar > 0.197 && bar < 0.198, "{bar}");
        let measured = scores.measure(bar);
        assert_eq!(measured.stranger_acceptance, 0.01);
        assert_eq!(measured.coverage, 0.5);
        assert_eq!(measured.wrong, 0.25);
        // With fewer strangers than 1/share, none may be named.
        let few = StrangerScores {
            strangers: vec![0.2, 0.4, 0.1],
            ..StrangerScores::default()
        };
        assert!(few.threshold(0.01) > 0.4);
        assert_eq!(few.measure(few.threshold(0.01)).stranger_acceptance, 0.0);
        assert_eq!(StrangerScores::default().threshold(0.01), 0.0);
    }
}
