//! The decision rule: when a face (or a track) is named, and when it is Unknown.
//!
//! - [`strangers`]: with photos of people who are not members, the bar is set on them (the model
//!   learns them as "someone else", and each is scored by a model that never saw them).
//! - [`members`]: without strangers, the rule is learned from the members' photos alone: held-out
//!   photos, and each member's photos scored by a model trained without her.
//!
//! Either way the rule also carries the distance at which a track is split (a face that stopped
//! looking like its track is someone else).

pub mod members;
pub mod strangers;

use facefile::format::model::{DecisionRule, OperatingPoint, RuleOrigin, StrangerPoint};

use crate::dataset::Dataset;
use crate::train::{Plan, TrainConfig};

pub use members::{named, OperatingData, Scored, MIN_MEMBER_PHOTOS, MIN_RULE_PHOTOS};
pub use strangers::StrangerScores;

/// The held-out data a rule was chosen on, for the report.
#[derive(Debug, Clone)]
pub enum Evidence {
    Strangers(StrangerScores),
    Members(OperatingData),
    /// Too few photos to learn from.
    None,
}

/// The rule for a model fitted with `plan`, and the data it was chosen on.
pub fn learn(dataset: &Dataset, plan: &Plan, config: &TrainConfig) -> (DecisionRule, Evidence) {
    let split_distance = split_distance(dataset);
    let published = dataset.embedder.published_same_person_distance();
    if dataset.strangers {
        let scores = strangers::scores(dataset, plan, config);
        let threshold = scores.threshold(config.stranger_share);
        let measured = scores.measure(threshold);
        let rule = DecisionRule {
            min_probability: threshold,
            max_distance: None,
            split_distance,
            origin: RuleOrigin::Strangers(StrangerPoint {
                share_target: config.stranger_share,
                strangers: scores.strangers.len(),
                people: scores.people,
                stranger_acceptance: measured.stranger_acceptance,
                members: scores.members.len(),
                coverage: measured.coverage,
                wrong: measured.wrong,
            }),
        };
        return (rule, Evidence::Strangers(scores));
    }
    match members::operating_data(dataset, plan, config) {
        Some(data) => {
            let choice = data.choose(config.precision_target);
            // Never looser than the distance the model's authors give for "the same person": the
            // training photos show no stranger from outside the group, and such a stranger could
            // lie anywhere beyond what they show.
            let limit = choice
                .thresholds
                .max_distance
                .unwrap_or(published)
                .min(published);
            let rule = DecisionRule {
                min_probability: choice.thresholds.min_probability,
                max_distance: Some(limit),
                split_distance,
                origin: RuleOrigin::Learned(OperatingPoint {
                    precision_target: config.precision_target,
                    coverage: choice.measured.coverage,
                    precision: choice.measured.precision,
                    stranger_acceptance: choice.measured.stranger_acceptance,
                    members: data.members.len(),
                    strangers: data.strangers.len(),
                }),
            };
            (rule, Evidence::Members(data))
        }
        None => {
            let rule = DecisionRule {
                min_probability: 0.0,
                max_distance: Some(published),
                split_distance,
                origin: RuleOrigin::Published {
                    reason: format!(
                        "fewer than {MIN_RULE_PHOTOS} photos of people with two or more photos \
                         and no strangers: the {} model's published same-person distance \
                         ({published:.3}) is used",
                        dataset.embedder
                    ),
                },
            };
            (rule, Evidence::None)
        }
    }
}

/// The distance from a face to its track's mean face beyond which the face is another person: half
/// way between how far a person's photos lie from the mean of her other photos (99th percentile)
/// and how close the nearest other person's mean comes (1st percentile).
pub fn split_distance(dataset: &Dataset) -> f32 {
    // Strangers are many people: their class has no "own" spread.
    let k = dataset.members();
    let unit = dataset.embedder.unit_length();
    let counts = dataset.counts();
    let mut own = Vec::new();
    let mut others = Vec::new();
    let means: Vec<Option<facefile::Embedding>> = (0..k as u32)
        .map(|c| {
            facefile::Embedding::weighted_mean(
                dataset
                    .embeddings
                    .iter()
                    .zip(&dataset.labels)
                    .filter(|(_, &l)| l == c)
                    .map(|(e, _)| (e, 1.0)),
                unit,
            )
        })
        .collect();
    for i in (0..dataset.len()).filter(|&i| dataset.primary[i]) {
        let label = dataset.labels[i];
        if label as usize >= k {
            continue;
        }
        if counts[label as usize] >= 2 {
            let rest = facefile::Embedding::weighted_mean(
                (0..dataset.len())
                    .filter(|&j| {
                        dataset.labels[j] == label && dataset.photos[j] != dataset.photos[i]
                    })
                    .map(|j| (&dataset.embeddings[j], 1.0)),
                unit,
            );
            if let Some(rest) = rest {
                own.push(rest.distance(&dataset.embeddings[i]));
            }
        }
        for (c, mean) in means.iter().enumerate() {
            if c as u32 != label {
                if let Some(mean) = mean {
                    others.push(mean.distance(&dataset.embeddings[i]));
                }
            }
        }
    }
    let published = dataset.embedder.published_same_person_distance();
    if own.len() < MIN_MEMBER_PHOTOS || others.is_empty() {
        return published * 1.5;
    }
    let quantile = |values: &mut Vec<f32>, q: f64| {
        values.sort_by(f32::total_cmp);
        values[((values.len() - 1) as f64 * q).round() as usize]
    };
    (quantile(&mut own, 0.99) + quantile(&mut others, 0.01)) / 2.0
}
