//! Naming the tracks, once each has been seen whole: its faces' mean embedding is classified with
//! the model's rule (the one the trainer measured), and no person is named twice at the same time
//! (when two overlapping tracks claim the same member, the more confident keeps her and the other
//! takes its next candidate if that one passes the rule, else Unknown).

use classifier::{decide, Decision, Predictor, Thresholds};
use facefile::format::model::Classifier;

use crate::tracker::Track;

/// Candidates kept per track for the labels (and for "Unknown (Mina? 33%)").
pub const CANDIDATES: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct TrackDecision {
    /// The person shown, or `None` for Unknown.
    pub class: Option<usize>,
    /// The best candidate's probability, and the distance of the mean face to her nearest photo.
    pub probability: f64,
    pub distance: f32,
    /// Best candidates first, with probabilities.
    pub candidates: Vec<(usize, f64)>,
    /// Why the track is Unknown, when it is.
    pub reason: Option<String>,
}

impl TrackDecision {
    fn unknown(reason: String) -> TrackDecision {
        TrackDecision {
            class: None,
            probability: 0.0,
            distance: f32::INFINITY,
            candidates: Vec::new(),
            reason: Some(reason),
        }
    }
}

/// The decision for one embedding (a face in a photo, or a track's mean face).
pub fn decide_face(
    predictor: &Predictor,
    embedding: &facefile::Embedding,
    thresholds: &Thresholds,
) -> TrackDecision {
    let prediction = predictor.predict(embedding);
    let candidates = prediction.top(CANDIDATES);
    match decide(&prediction, thresholds) {
        Decision::Known { class, probability } => TrackDecision {
            class: Some(class),
            probability,
            distance: prediction.distance,
            candidates,
            reason: None,
        },
        Decision::Unknown { reason } => TrackDecision {
            class: None,
            probability: prediction.probability,
            distance: prediction.distance,
            candidates,
            reason: Some(reason.to_string()),
        },
    }
}

/// One decision per track, in the order of `tracks`.
pub fn decide_tracks(
    tracks: &[Track],
    model: &Classifier,
    thresholds: &Thresholds,
) -> Vec<TrackDecision> {
    let predictor = Predictor::new(model);
    let mut decisions: Vec<TrackDecision> = tracks
        .iter()
        .map(|track| match track.evidence.mean() {
            Some(mean) => decide_face(&predictor, &mean, thresholds),
            None => TrackDecision::unknown("no face of the track could be embedded".into()),
        })
        .collect();
    let spans: Vec<(u64, u64)> = tracks
        .iter()
        .map(|t| (t.first_frame(), t.last_frame()))
        .collect();
    make_exclusive(&spans, &mut decisions, |track, class| {
        passes(
            &predictor,
            &tracks[track].evidence.mean()?,
            class,
            thresholds,
        )
    });
    decisions
}

/// Whether `embedding` would be named `class` by the rule: its probability and distance if so.
pub fn passes(
    predictor: &Predictor,
    embedding: &facefile::Embedding,
    class: usize,
    thresholds: &Thresholds,
) -> Option<(f64, f32)> {
    let probability = predictor.predict(embedding).probabilities[class];
    let distance = predictor.nearest_distance(embedding, class);
    (probability >= thresholds.min_probability && distance <= thresholds.max_distance)
        .then_some((probability, distance))
}

/// Resolves faces (tracks spanning frames `first..=last`; all faces of a photo share one span) that
/// are on screen together and claim the same person: the most probable keeps her; each other takes
/// its next candidate that `passes` (and is free), else becomes Unknown.
pub fn make_exclusive(
    spans: &[(u64, u64)],
    decisions: &mut [TrackDecision],
    passes: impl Fn(usize, usize) -> Option<(f64, f32)>,
) {
    let mut order: Vec<usize> = (0..spans.len())
        .filter(|&t| decisions[t].class.is_some())
        .collect();
    order.sort_by(|&a, &b| {
        decisions[b]
            .probability
            .total_cmp(&decisions[a].probability)
            .then(a.cmp(&b))
    });
    // (first, last, class) of the tracks named so far.
    let mut claimed: Vec<(u64, u64, usize)> = Vec::new();
    for t in order {
        let (first, last) = spans[t];
        let taken = |class: usize, claimed: &[(u64, u64, usize)]| {
            claimed
                .iter()
                .any(|&(f, l, c)| c == class && f <= last && first <= l)
        };
        let wanted = decisions[t].class.expect("named");
        if !taken(wanted, &claimed) {
            claimed.push((first, last, wanted));
            continue;
        }
        let alternative = decisions[t]
            .candidates
            .iter()
            .skip(1)
            .map(|&(class, _)| class)
            .find(|&class| !taken(class, &claimed) && passes(t, class).is_some());
        match alternative.and_then(|class| passes(t, class).map(|p| (class, p))) {
            Some((class, (probability, distance))) => {
                decisions[t].class = Some(class);
                decisions[t].probability = probability;
                decisions[t].distance = distance;
                claimed.push((first, last, class));
            }
            None => {
                decisions[t].class = None;
                decisions[t].reason = Some(
                    "its best candidate is already named on another, more certain face at the same time"
                        .into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(class: usize, probability: f64, second: usize) -> TrackDecision {
        TrackDecision {
            class: Some(class),
            probability,
            distance: 0.1,
            candidates: vec![(class, probability), (second, 0.2)],
            reason: None,
        }
    }

    #[test]
    fn nobody_is_named_twice_at_the_same_time() {
        let spans = [(0, 30), (10, 40), (50, 60)];
        let mut decisions = vec![named(0, 0.6, 1), named(0, 0.9, 2), named(0, 0.7, 1)];
        // Candidate 2 passes the rule for the first face, candidate 1 does not.
        let only_two = |_: usize, class: usize| (class == 2).then_some((0.5, 0.2));
        make_exclusive(&spans, &mut decisions, only_two);
        assert_eq!(decisions[1].class, Some(0), "the most probable keeps her");
        assert_eq!(
            decisions[0].class, None,
            "its second candidate does not pass"
        );
        assert!(decisions[0]
            .reason
            .as_ref()
            .unwrap()
            .contains("more certain face"));
        assert_eq!(
            decisions[2].class,
            Some(0),
            "a later track does not overlap"
        );

        let mut decisions = vec![named(0, 0.6, 2), named(0, 0.9, 1), named(3, 0.7, 1)];
        make_exclusive(&spans, &mut decisions, only_two);
        assert_eq!(
            decisions[0].class,
            Some(2),
            "the next candidate that passes"
        );
        assert_eq!(decisions[0].probability, 0.5);
    }
}
