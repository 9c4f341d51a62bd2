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

/// One decision per track, in the order of `tracks`.
pub fn decide_tracks(
    tracks: &[Track],
    model: &Classifier,
    thresholds: &Thresholds,
) -> Vec<TrackDecision> {
    let predictor = Predictor::new(model);
    let mut decisions: Vec<TrackDecision> = tracks
        .iter()
        .map(|track| {
            let Some(mean) = track.evidence.mean() else {
                return TrackDecision::unknown("no face of the track could be embedded".into());
            };
            let prediction = predictor.predict(&mean);
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
        })
        .collect();
    make_exclusive(tracks, &mut decisions, |track, class| {
        let mean = tracks[track].evidence.mean()?;
        let distance = predictor.nearest_distance(&mean, class);
        let probability = decisions_probability(&predictor, &mean, class);
        (probability >= thresholds.min_probability && distance <= thresholds.max_distance)
            .then_some((probability, distance))
    });
    decisions
}

fn decisions_probability(predictor: &Predictor, mean: &facefile::Embedding, class: usize) -> f64 {
    predictor.predict(mean).probabilities[class]
}

/// Resolves tracks that overlap in time and claim the same person: the most probable keeps her;
/// each other takes its next candidate that `passes` (and is free), else becomes Unknown.
fn make_exclusive(
    tracks: &[Track],
    decisions: &mut [TrackDecision],
    passes: impl Fn(usize, usize) -> Option<(f64, f32)>,
) {
    let mut order: Vec<usize> = (0..tracks.len())
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
        let (first, last) = (tracks[t].first_frame(), tracks[t].last_frame());
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
                    "its best candidate is on screen in another, more certain track at the same time"
                        .into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::Tracker;
    use facefile::BoundingBox;

    fn tracks(spans: &[(u64, u64)]) -> Vec<Track> {
        let mut tracker = Tracker::new(false, 1.0);
        let mut all = Vec::new();
        for (i, &(first, last)) in spans.iter().enumerate() {
            let x = i as i32 * 200;
            let bbox = BoundingBox::new(x, 0, x + 50, 50);
            tracker.update(first, &[bbox], true);
            tracker.update(last, &[bbox], false);
            all.extend(std::mem::take(&mut tracker.active));
        }
        all
    }

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
        let tracks = tracks(&[(0, 30), (10, 40), (50, 60)]);
        let mut decisions = vec![named(0, 0.6, 1), named(0, 0.9, 2), named(0, 0.7, 1)];
        // Candidate 2 passes the rule for track 0, candidate 1 does not.
        make_exclusive(&tracks, &mut decisions, |_, class| {
            (class == 2).then_some((0.5, 0.2))
        });
        assert_eq!(decisions[1].class, Some(0), "the most probable keeps her");
        assert_eq!(
            decisions[0].class, None,
            "its second candidate does not pass"
        );
        assert!(decisions[0]
            .reason
            .as_ref()
            .unwrap()
            .contains("more certain track"));
        assert_eq!(
            decisions[2].class,
            Some(0),
            "a later track does not overlap"
        );

        let mut decisions = vec![named(0, 0.6, 2), named(0, 0.9, 1), named(3, 0.7, 1)];
        make_exclusive(&tracks, &mut decisions, |_, class| {
            (class == 2).then_some((0.5, 0.2))
        });
        assert_eq!(
            decisions[0].class,
            Some(2),
            "the next candidate that passes"
        );
        assert_eq!(decisions[0].probability, 0.5);
    }
}
