//! The open-set rule: a face the model cannot vouch for is Unknown. A model trained with strangers
//! gives "someone else" its own share of the probability, so a name needs its member's probability
//! to reach a threshold set on strangers the model never saw. A model trained on members alone
//! spreads the probability over them even for a stranger, so a name also needs a training face of
//! that person close enough. The thresholds come from the model (`svm-trainer`); the user may
//! override the probability.

use facefile::format::model::DecisionRule;

use crate::predict::Prediction;

/// The thresholds in force.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub min_probability: f64,
    /// `None`: no distance limit.
    pub max_distance: Option<f32>,
}

impl Thresholds {
    /// The model's rule, with the probability replaced by the user's when given.
    pub fn from_rule(rule: &DecisionRule, min_probability: Option<f64>) -> Thresholds {
        Thresholds {
            min_probability: min_probability.unwrap_or(rule.min_probability),
            max_distance: rule.max_distance,
        }
    }

    /// Whether a candidate with this probability and distance is named under these thresholds.
    pub fn pass(&self, probability: f64, distance: f32) -> bool {
        probability >= self.min_probability && self.max_distance.is_none_or(|d| distance <= d)
    }
}

/// What to show for a face or a track.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Known { class: usize, probability: f64 },
    Unknown { reason: UnknownReason },
}

impl Decision {
    pub fn class(&self) -> Option<usize> {
        match self {
            Decision::Known { class, .. } => Some(*class),
            Decision::Unknown { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnknownReason {
    /// The best candidate's probability is under the threshold.
    LowProbability { probability: f64, threshold: f64 },
    /// No training face of the best candidate is close enough.
    TooFar { distance: f32, limit: f32 },
}

impl std::fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnknownReason::LowProbability {
                probability,
                threshold,
            } => write!(
                f,
                "best candidate at {:.0}%, under the {:.0}% needed",
                probability * 100.0,
                threshold * 100.0
            ),
            UnknownReason::TooFar { distance, limit } => write!(
                f,
                "farther from her photos ({distance:.3}) than the model's limit ({limit:.3})"
            ),
        }
    }
}

/// `Known` when the top probability reaches the threshold and the face is within the distance limit.
pub fn decide(prediction: &Prediction, thresholds: &Thresholds) -> Decision {
    if let Some(limit) = thresholds.max_distance {
        if prediction.distance > limit {
            return Decision::Unknown {
                reason: UnknownReason::TooFar {
                    distance: prediction.distance,
                    limit,
                },
            };
        }
    }
    if prediction.probability < thresholds.min_probability {
        return Decision::Unknown {
            reason: UnknownReason::LowProbability {
                probability: prediction.probability,
                threshold: thresholds.min_probability,
            },
        };
    }
    Decision::Known {
        class: prediction.class,
        probability: prediction.probability,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(probability: f64, distance: f32) -> Prediction {
        Prediction {
            probabilities: vec![probability, 1.0 - probability],
            stranger: 0.0,
            class: 0,
            probability,
            distance,
        }
    }

    #[test]
    fn both_thresholds_must_hold() {
        let t = Thresholds {
            min_probability: 0.5,
            max_distance: Some(0.4),
        };
        assert_eq!(decide(&prediction(0.8, 0.3), &t).class(), Some(0));
        let far = decide(&prediction(0.99, 0.5), &t);
        assert!(matches!(
            far,
            Decision::Unknown {
                reason: UnknownReason::TooFar { .. }
            }
        ));
        let unsure = decide(&prediction(0.45, 0.1), &t);
        match unsure {
            Decision::Unknown { reason } => {
                assert_eq!(
                    reason.to_string(),
                    "best candidate at 45%, under the 50% needed"
                )
            }
            other => panic!("{other:?}"),
        }
        // A rule set on strangers has no distance limit: only the probability counts.
        let open = Thresholds {
            min_probability: 0.5,
            max_distance: None,
        };
        assert_eq!(decide(&prediction(0.99, 1.5), &open).class(), Some(0));
        assert!(open.pass(0.5, f32::INFINITY) && !open.pass(0.49, 0.0));
    }
}
