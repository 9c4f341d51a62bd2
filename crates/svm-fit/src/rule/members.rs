//! The decision rule learned from the members' photos alone, when there are no strangers.
//!
//! A name is shown when the classifier's top probability reaches `min_probability` and the face lies
//! within `max_distance` of a training face of that person. Both thresholds are chosen on two sets of
//! held-out predictions:
//! - **members**: each photo scored by a model cross-validated without it (right or wrong name);
//! - **strangers**: each member's photos scored by a model trained without her — to that model she is
//!   a stranger who looks like a member, which is what other groups' idols are to the real one.
//!
//! The rule names as many member photos correctly as it can while the names it gives (to members and
//! strangers alike) stay at least `precision_target` right. No distance constant from another
//! dataset is used: look-alike groups break dlib's 0.6 and SFace's 0.363.

use classifier::{decide, Thresholds};
use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::train::{self, Plan, TrainConfig};
use crate::validate::stratified_folds;

/// Held-out member photos for a rule that does not rest on a handful of them; with fewer it is
/// still learned (it only gets stricter: it names none of the simulated strangers it has seen),
/// and the report says how little it rests on.
pub const MIN_MEMBER_PHOTOS: usize = 30;
/// Below this many photos (of people with two or more) nothing can be learned: the embedder's
/// published distance is used, and the model says so.
pub const MIN_RULE_PHOTOS: usize = 6;
/// Candidate thresholds tried per axis (quantiles of the scores when there are more).
const MAX_CANDIDATES: usize = 256;

/// One held-out prediction: the top probability, the distance to that person's nearest training
/// face, and whether the name was right (always false for a stranger).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub probability: f64,
    pub distance: f32,
    pub correct: bool,
}

/// The held-out predictions a rule is chosen on.
#[derive(Debug, Clone, Default)]
pub struct OperatingData {
    pub members: Vec<Scored>,
    pub strangers: Vec<Scored>,
}

/// How a rule does on the operating data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Member photos named right / member photos.
    pub coverage: f64,
    /// Right names / names given (members and strangers).
    pub precision: f64,
    /// Strangers named / strangers.
    pub stranger_acceptance: f64,
    /// Member photos named wrongly / member photos.
    pub wrong: f64,
}

/// A chosen operating point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub thresholds: Thresholds,
    pub measured: Measured,
    /// Whether the precision target was reached (otherwise the most precise point was taken).
    pub reached: bool,
}

impl OperatingData {
    pub fn measure(&self, thresholds: &Thresholds) -> Measured {
        let named = |s: &Scored| thresholds.pass(s.probability, s.distance);
        let right = self
            .members
            .iter()
            .filter(|s| named(s) && s.correct)
            .count();
        let wrong = self
            .members
            .iter()
            .filter(|s| named(s) && !s.correct)
            .count();
        let strangers = self.strangers.iter().filter(|s| named(s)).count();
        let given = right + wrong + strangers;
        Measured {
            coverage: right as f64 / self.members.len().max(1) as f64,
            precision: if given == 0 {
                1.0
            } else {
                right as f64 / given as f64
            },
            stranger_acceptance: strangers as f64 / self.strangers.len().max(1) as f64,
            wrong: wrong as f64 / self.members.len().max(1) as f64,
        }
    }

    /// The thresholds that name the most member photos correctly while keeping `precision_target`;
    /// among equals, the fewest strangers named, then the point in the middle of the equals (so the
    /// thresholds do not sit on the edge of one photo).
    pub fn choose(&self, precision_target: f64) -> Choice {
        let tagged: Vec<(f64, f32, Kind)> = self
            .members
            .iter()
            .map(|s| {
                let kind = if s.correct { Kind::Right } else { Kind::Wrong };
                (s.probability, s.distance, kind)
            })
            .chain(
                self.strangers
                    .iter()
                    .map(|s| (s.probability, s.distance, Kind::Stranger)),
            )
            .collect();
        let p_candidates = candidates(tagged.iter().map(|t| t.0).collect(), 0.0, 1.0);
        let d_candidates = candidates(
            tagged.iter().map(|t| t.1 as f64).collect(),
            0.0,
            f64::INFINITY,
        );
        // Items sorted by distance, for one sweep per probability threshold.
        let mut by_distance = tagged;
        by_distance.sort_by(|a, b| a.1.total_cmp(&b.1));
        let members = self.members.len().max(1) as f64;
        let strangers = self.strangers.len().max(1) as f64;
        let mut scored: Vec<Point> = Vec::new();
        for (p, &tp) in p_candidates.iter().enumerate() {
            let (mut right, mut wrong, mut stranger, mut next) = (0usize, 0usize, 0usize, 0usize);
            for (d, &td) in d_candidates.iter().enumerate() {
                while next < by_distance.len() && (by_distance[next].1 as f64) <= td {
                    let (probability, _, kind) = by_distance[next];
                    if probability >= tp {
                        match kind {
                            Kind::Right => right += 1,
                            Kind::Wrong => wrong += 1,
                            Kind::Stranger => stranger += 1,
                        }
                    }
                    next += 1;
                }
                let given = right + wrong + stranger;
                scored.push(Point {
                    coverage: right as f64 / members,
                    precision: if given == 0 {
                        1.0
                    } else {
                        right as f64 / given as f64
                    },
                    strangers: stranger as f64 / strangers,
                    p,
                    d,
                });
            }
        }
        let naming = |point: &&Point| point.coverage > 0.0;
        let mut pool: Vec<&Point> = scored
            .iter()
            .filter(naming)
            .filter(|point| point.precision >= precision_target - 1e-12)
            .collect();
        let reached_target = !pool.is_empty();
        if !reached_target {
            let best = scored
                .iter()
                .filter(naming)
                .map(|point| point.precision)
                .fold(f64::NEG_INFINITY, f64::max);
            pool = scored
                .iter()
                .filter(naming)
                .filter(|point| point.precision >= best - 1e-12)
                .collect();
        }
        let choice = match best_of(&pool) {
            Some(point) => point,
            // Nothing can be named: name nobody.
            None => Point {
                coverage: 0.0,
                precision: 1.0,
                strangers: 0.0,
                p: p_candidates.len() - 1,
                d: 0,
            },
        };
        let thresholds = Thresholds {
            min_probability: p_candidates[choice.p].clamp(0.0, 1.0),
            max_distance: Some(d_candidates[choice.d].min(f32::MAX as f64) as f32),
        };
        Choice {
            thresholds,
            measured: self.measure(&thresholds),
            reached: reached_target,
        }
    }

    /// The best coverage at each precision target: the coverage/precision curve of the report.
    pub fn curve(&self, targets: &[f64]) -> Vec<(f64, Choice)> {
        targets.iter().map(|&t| (t, self.choose(t))).collect()
    }
}

/// A candidate pair of thresholds (indices into the candidate lists) and how it does.
#[derive(Debug, Clone, Copy)]
struct Point {
    coverage: f64,
    precision: f64,
    strangers: f64,
    p: usize,
    d: usize,
}

/// The most coverage; among equals, the fewest strangers named; among those, the point nearest
/// the middle of the equals (so the thresholds do not sit on the edge of one photo).
fn best_of(pool: &[&Point]) -> Option<Point> {
    let coverage = pool
        .iter()
        .map(|p| p.coverage)
        .fold(f64::NEG_INFINITY, f64::max);
    let tied: Vec<&&Point> = pool
        .iter()
        .filter(|p| p.coverage >= coverage - 1e-12)
        .collect();
    let fewest = tied
        .iter()
        .map(|p| p.strangers)
        .fold(f64::INFINITY, f64::min);
    let tied: Vec<&&Point> = tied
        .into_iter()
        .filter(|p| p.strangers <= fewest + 1e-12)
        .collect();
    if tied.is_empty() {
        return None;
    }
    let centre_p = tied.iter().map(|p| p.p as f64).sum::<f64>() / tied.len() as f64;
    let centre_d = tied.iter().map(|p| p.d as f64).sum::<f64>() / tied.len() as f64;
    let off_centre = |p: &Point| (p.p as f64 - centre_p).powi(2) + (p.d as f64 - centre_d).powi(2);
    tied.into_iter()
        .min_by(|a, b| off_centre(a).total_cmp(&off_centre(b)))
        .map(|p| **p)
}

#[derive(Clone, Copy)]
enum Kind {
    Right,
    Wrong,
    Stranger,
}

/// Thresholds between consecutive distinct values (and beyond both ends), at most
/// [`MAX_CANDIDATES`] of them.
fn candidates(mut values: Vec<f64>, low: f64, high: f64) -> Vec<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    values.dedup();
    if values.len() > MAX_CANDIDATES {
        values = (0..MAX_CANDIDATES)
            .map(|i| values[i * (values.len() - 1) / (MAX_CANDIDATES - 1)])
            .collect();
        values.dedup();
    }
    let mut out = vec![low];
    out.extend(values.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    if let Some(&last) = values.last() {
        out.push(if high.is_finite() {
            high
        } else {
            last * 1.01 + 1e-6
        });
    }
    out.dedup();
    out
}

/// Held-out member predictions and simulated strangers; `None` when too few photos.
pub fn operating_data(
    dataset: &Dataset,
    plan: &Plan,
    config: &TrainConfig,
) -> Option<OperatingData> {
    let counts = dataset.counts();
    let photo_labels = dataset.photo_labels();
    let eligible = |class: u32| counts[class as usize] >= 2;
    let eligible_photos = photo_labels.iter().filter(|&&l| eligible(l)).count();
    if eligible_photos < MIN_RULE_PHOTOS || dataset.classes.len() < 2 {
        return None;
    }
    let min_eligible = counts.iter().copied().filter(|&c| c >= 2).min()?;
    let folds = config.folds.min(min_eligible).max(2);
    // Photos of one-photo people never leave training.
    let folded_labels: Vec<u32> = photo_labels
        .iter()
        .map(|&l| if eligible(l) { l } else { u32::MAX })
        .collect();
    let fold_of_photo: Vec<Option<usize>> = {
        let eligible_labels: Vec<u32> = folded_labels
            .iter()
            .copied()
            .filter(|&l| l != u32::MAX)
            .collect();
        let folds_of_eligible = stratified_folds(&eligible_labels, folds, config.seed ^ 0x5eed);
        let mut next = folds_of_eligible.into_iter();
        folded_labels
            .iter()
            .map(|&l| (l != u32::MAX).then(|| next.next().expect("one fold per eligible photo")))
            .collect()
    };
    let member_folds: Vec<Vec<Scored>> = (0..folds)
        .into_par_iter()
        .map(|fold| {
            let training = dataset.subset(|p| fold_of_photo[p as usize] != Some(fold));
            let model = train::fit_plan(&training, plan, config.seed);
            train::predict_photos(&model, dataset, |p| fold_of_photo[p as usize] == Some(fold))
                .into_iter()
                .map(|(photo, prediction)| Scored {
                    probability: prediction.probability,
                    distance: prediction.distance,
                    correct: prediction.class as u32 == photo_labels[photo],
                })
                .collect()
        })
        .collect();
    let stranger_classes: Vec<Vec<Scored>> = (0..dataset.classes.len() as u32)
        .into_par_iter()
        .map(|class| {
            let training = dataset.without_class(class);
            let plan = match plan {
                Plan::Svm { .. } if training.classes.len() < 2 => Plan::NearestNeighbour {
                    reason: "a single person".into(),
                },
                other => other.clone(),
            };
            let model = train::fit_plan(&training, &plan, config.seed);
            train::predict_photos(&model, dataset, |p| photo_labels[p as usize] == class)
                .into_iter()
                .map(|(_, prediction)| Scored {
                    probability: prediction.probability,
                    distance: prediction.distance,
                    correct: false,
                })
                .collect()
        })
        .collect();
    Some(OperatingData {
        members: member_folds.into_iter().flatten().collect(),
        strangers: stranger_classes.into_iter().flatten().collect(),
    })
}

/// Whether a prediction is named under `thresholds` (for tests and reports).
pub fn named(probability: f64, distance: f32, thresholds: &Thresholds) -> bool {
    let prediction = classifier::Prediction {
        probabilities: vec![probability],
        stranger: 0.0,
        class: 0,
        probability,
        distance,
    };
    decide(&prediction, thresholds).class().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(probability: f64, distance: f32, correct: bool) -> Scored {
        Scored {
            probability,
            distance,
            correct,
        }
    }

    #[test]
    fn the_rule_keeps_precision_and_rejects_strangers() {
        // Members: confident and close. Strangers: a little less confident, farther.
        let data = OperatingData {
            members: vec![
                s(0.9, 0.30, true),
                s(0.8, 0.35, true),
                s(0.7, 0.40, true),
                s(0.6, 0.45, true),
                s(0.5, 0.42, false),
            ],
            strangers: vec![
                s(0.55, 0.60, false),
                s(0.45, 0.50, false),
                s(0.85, 0.70, false),
            ],
        };
        let choice = data.choose(0.98);
        assert!(choice.reached);
        assert_eq!(choice.measured.coverage, 0.8);
        assert_eq!(choice.measured.stranger_acceptance, 0.0);
        assert_eq!(choice.measured.precision, 1.0);
        let t = choice.thresholds;
        assert!(
            named(0.6, 0.45, &t) && !named(0.5, 0.42, &t) && !named(0.85, 0.70, &t),
            "{t:?}"
        );
        // A looser target names the wrong one too.
        assert_eq!(data.choose(0.5).measured.coverage, 0.8);
        // The curve is monotone in the target.
        let curve = data.curve(&[0.5, 0.9, 1.0]);
        assert!(curve[0].1.measured.coverage >= curve[2].1.measured.coverage);
    }

    #[test]
    fn an_unreachable_target_takes_the_most_precise_point() {
        let data = OperatingData {
            members: vec![s(0.9, 0.3, true), s(0.9, 0.3, false)],
            strangers: vec![],
        };
        let choice = data.choose(0.99);
        assert!(!choice.reached);
        assert_eq!(choice.measured.precision, 0.5);
    }

    #[test]
    fn candidates_sit_between_values() {
        assert_eq!(
            candidates(vec![0.2, 0.4, 0.4, f64::NAN], 0.0, 1.0),
            vec![0.0, 0.30000000000000004, 1.0]
        );
    }
}
