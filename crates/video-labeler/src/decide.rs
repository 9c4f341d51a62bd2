//! Naming the tracks, once each has been seen whole: its faces' pooled embedding is classified with
//! the model's rule (the one the trainer measured). Then a name goes to the face that deserves it:
//! wherever several tracks are on screen together, their names are decided jointly, as the most
//! likely assignment in which nobody is named twice (each track takes a candidate that passes the
//! rule, or Unknown). A track that keeps its name in some frames and loses it in others is split
//! there, so every track has one name; one that lost its name shows "Unknown (Mina?)".

use classifier::{decide, Decision, Predictor, Rules, Thresholds};
use facefile::Embedding;

use crate::tracker::{Sighting, Track};

/// Candidates kept per track for the labels (and for "Unknown (Mina? 33%)").
pub const CANDIDATES: usize = 3;
/// Probabilities are kept inside (ε, 1 − ε) when weighed as log-likelihoods.
const MIN_LIKELIHOOD: f64 = 1e-6;

#[derive(Debug, Clone, PartialEq)]
pub struct TrackDecision {
    /// The person shown, or `None` for Unknown.
    pub class: Option<usize>,
    /// The shown person's probability (for Unknown: the best candidate's), and the distance of the
    /// pooled face to her nearest photo.
    pub probability: f64,
    pub distance: f32,
    /// Best candidates first, with probabilities.
    pub candidates: Vec<(usize, f64)>,
    /// The name this track would have had, given instead to another face at the same time.
    pub lost_to_another: Option<usize>,
    /// Its best candidate passes the model's rule but is under 50 %: Unknown, as not likelier
    /// than not.
    pub under_half: bool,
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
            lost_to_another: None,
            under_half: false,
            reason: Some(reason),
        }
    }
}

/// A track's pooled face with what the model says of it: every candidate that passes the rule,
/// with its probability, best first.
#[derive(Debug, Clone)]
struct Options {
    decision: TrackDecision,
    passing: Vec<(usize, f64, f32)>,
}

fn options(predictor: &Predictor, embedding: &Embedding, thresholds: &Thresholds) -> Options {
    let decision = decide_face(predictor, embedding, thresholds);
    let prediction = predictor.predict(embedding);
    let mut passing: Vec<(usize, f64, f32)> = prediction
        .top(prediction.probabilities.len())
        .into_iter()
        .filter(|&(_, p)| p >= thresholds.min_probability)
        .map(|(class, p)| (class, p, predictor.nearest_distance(embedding, class)))
        .filter(|&(_, p, d)| thresholds.pass(p, d))
        .collect();
    if decision.class.is_none() {
        // The best candidate failed the rule: so does every other.
        passing.clear();
    }
    Options { decision, passing }
}

/// The decision for one embedding (a face in a photo, or a track's pooled face), on its own.
pub fn decide_face(
    predictor: &Predictor,
    embedding: &Embedding,
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
            lost_to_another: None,
            under_half: false,
            reason: None,
        },
        Decision::Unknown { reason } => TrackDecision {
            class: None,
            probability: prediction.probability,
            distance: prediction.distance,
            candidates,
            lost_to_another: None,
            under_half: false,
            reason: Some(reason.to_string()),
        },
    }
}

/// The decisions for faces seen together (the faces of one photo, each with its height in pixels):
/// the most likely assignment in which nobody is named twice.
pub fn decide_together(faces: &[(Embedding, f32)], rules: &Rules) -> Vec<TrackDecision> {
    let options: Vec<Options> = faces
        .iter()
        .map(|(e, height)| {
            let (model, thresholds) = rules.for_height(*height);
            options(&Predictor::new(model), e, &thresholds)
        })
        .collect();
    let choices: Vec<Vec<(usize, f64)>> = options
        .iter()
        .map(|o| o.passing.iter().map(|&(c, p, _)| (c, p)).collect())
        .collect();
    let unknown: Vec<f64> = options
        .iter()
        .map(|o| 1.0 - o.decision.probability)
        .collect();
    options
        .iter()
        .zip(most_likely_assignment(&choices, &unknown))
        .map(|(o, class)| decision_for(o, class))
        .collect()
}

/// Named tracks, after the joint decisions: tracks split where their name changes, each with its
/// decision, in the order of their first frame.
pub struct Named {
    pub tracks: Vec<Track>,
    pub decisions: Vec<TrackDecision>,
    /// Tracks split because they kept their name in some frames and lost it in others.
    pub splits: u32,
    /// The id the next track may take (pieces of split tracks took theirs).
    pub next_id: u32,
}

/// Decides every track. `shown_until[t]` is the last frame track `t` is drawn on (its last
/// sighting, held a little); tracks are "together" on the frames both are drawn on.
pub fn decide_tracks(
    tracks: Vec<Track>,
    shown_until: &[u64],
    rules: &Rules,
    next_id: u32,
) -> Named {
    let options: Vec<Option<Options>> = tracks
        .iter()
        .map(|track| {
            // A small face (by its median size) is named by the model's small-face classifier.
            let (model, thresholds) = rules.for_height(track.median_face_height());
            track
                .evidence
                .mean()
                .map(|mean| options(&Predictor::new(model), &mean, &thresholds))
        })
        .collect();
    let spans: Vec<(u64, u64)> = tracks
        .iter()
        .zip(shown_until)
        .map(|(t, &end)| (t.first_frame(), end.max(t.last_frame())))
        .collect();
    let per_stretch = assign_over_time(&spans, &options);
    let mut named = Named {
        tracks: Vec::new(),
        decisions: Vec::new(),
        splits: 0,
        next_id,
    };
    for (track, (options, stretches)) in tracks.into_iter().zip(options.iter().zip(per_stretch)) {
        let Some(options) = options else {
            named.tracks.push(track);
            named.decisions.push(TrackDecision::unknown(
                "no face of the track could be embedded".into(),
            ));
            continue;
        };
        // Runs of stretches with the same name.
        let mut runs: Vec<(u64, Option<usize>)> = Vec::new();
        for (first, class) in stretches {
            if runs.last().is_none_or(|&(_, c)| c != class) {
                runs.push((first, class));
            }
        }
        let pieces = split_at(
            track,
            runs.iter().skip(1).map(|&(f, _)| f),
            &mut named.next_id,
        );
        named.splits += pieces.len() as u32 - 1;
        for (piece, &(_, class)) in pieces.into_iter().zip(&runs) {
            named.decisions.push(decision_for(options, class));
            named.tracks.push(piece);
        }
    }
    let mut order: Vec<usize> = (0..named.tracks.len()).collect();
    order.sort_by_key(|&i| (named.tracks[i].first_frame(), named.tracks[i].id));
    let mut tracks: Vec<Option<Track>> = named.tracks.into_iter().map(Some).collect();
    named.tracks = order
        .iter()
        .map(|&i| tracks[i].take().expect("once"))
        .collect();
    named.decisions = order.iter().map(|&i| named.decisions[i].clone()).collect();
    named
}

/// The decision of a track given the class the joint assignment gave it.
fn decision_for(options: &Options, class: Option<usize>) -> TrackDecision {
    let alone = &options.decision;
    match class {
        Some(class) => {
            let &(_, probability, distance) = options
                .passing
                .iter()
                .find(|&&(c, _, _)| c == class)
                .expect("assigned classes pass");
            TrackDecision {
                class: Some(class),
                probability,
                distance,
                ..alone.clone()
            }
        }
        None => match alone.class {
            // Unknown's likelihood (1 − p) outweighs a name under 50 % (at 50 % they tie and the
            // name is taken), with or without other faces: a bar of its own, under the rule's when
            // a model learned from few photos, and kept (measured with `make eval`: without it 4 of
            // the 9 five-member models name the members left out in 18–52 % of their frames, and
            // one names strangers in 6 % of the stranger clips' frames).
            Some(_) if alone.probability < 0.5 => TrackDecision {
                class: None,
                under_half: true,
                reason: Some(format!(
                    "best candidate at {:.1}%, not likelier than not (a name needs 50% or more)",
                    alone.probability * 100.0
                )),
                ..alone.clone()
            },
            // It would have been named on its own: the name went to another face.
            Some(lost) => TrackDecision {
                class: None,
                lost_to_another: Some(lost),
                reason: Some(
                    "its best candidate is on another face at the same time, more likely hers"
                        .into(),
                ),
                ..alone.clone()
            },
            None => alone.clone(),
        },
    }
}

/// For each track, the stretches of its span (by first frame) and the class it has in each. A
/// stretch is a run of frames in which the same tracks are on screen; in each, the tracks' names
/// are the most likely assignment in which nobody is named twice.
fn assign_over_time(
    spans: &[(u64, u64)],
    options: &[Option<Options>],
) -> Vec<Vec<(u64, Option<usize>)>> {
    let mut bounds: Vec<u64> = spans.iter().flat_map(|&(a, b)| [a, b + 1]).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut result: Vec<Vec<(u64, Option<usize>)>> = vec![Vec::new(); spans.len()];
    for window in bounds.windows(2) {
        let (start, end) = (window[0], window[1] - 1);
        let live: Vec<usize> = (0..spans.len())
            .filter(|&t| spans[t].0 <= start && end <= spans[t].1)
            .collect();
        if live.is_empty() {
            continue;
        }
        let choices: Vec<Vec<(usize, f64)>> = live
            .iter()
            .map(|&t| match &options[t] {
                Some(o) => o.passing.iter().map(|&(c, p, _)| (c, p)).collect(),
                None => Vec::new(),
            })
            .collect();
        let unknown: Vec<f64> = live
            .iter()
            .map(|&t| {
                let best = options[t].as_ref().map_or(0.0, |o| o.decision.probability);
                1.0 - best
            })
            .collect();
        for (&t, class) in live.iter().zip(most_likely_assignment(&choices, &unknown)) {
            result[t].push((start, class));
        }
    }
    result
}

/// Cuts `track` at each of `starts` (frames, increasing, after its first frame). Each piece keeps
/// the sightings in its frames; a piece that starts between two sightings begins with the box
/// interpolated there, and the piece before it ends with the box of the frame before.
fn split_at(track: Track, starts: impl Iterator<Item = u64>, next_id: &mut u32) -> Vec<Track> {
    let mut pieces = vec![track];
    for start in starts {
        let current = pieces.last_mut().expect("a piece");
        if start <= current.first_frame() {
            continue;
        }
        let mut later: Vec<Sighting> = current
            .sightings
            .iter()
            .copied()
            .filter(|s| s.frame >= start)
            .collect();
        let box_at_start = crate::render::box_at(current, start);
        let box_before = crate::render::box_at(current, start - 1);
        current.sightings.retain(|s| s.frame < start);
        if current
            .sightings
            .last()
            .is_some_and(|s| s.frame < start - 1)
        {
            current.sightings.push(Sighting {
                frame: start - 1,
                bbox: box_before,
            });
        }
        if later.first().is_none_or(|s| s.frame > start) {
            later.insert(
                0,
                Sighting {
                    frame: start,
                    bbox: box_at_start,
                },
            );
        }
        let piece = current.continued(*next_id, later);
        *next_id += 1;
        pieces.push(piece);
    }
    pieces
}

/// The most likely assignment of names to faces on screen together: face `i` takes one of its
/// `choices[i]` (class, probability) or Unknown (likelihood `unknown[i]`, the chance it is not its
/// best candidate), no class twice, maximising the product of the likelihoods. Solved exactly as
/// an assignment problem (Hungarian method) on minus their logarithms.
pub fn most_likely_assignment(
    choices: &[Vec<(usize, f64)>],
    unknown: &[f64],
) -> Vec<Option<usize>> {
    let n = choices.len();
    let mut classes: Vec<usize> = choices.iter().flatten().map(|&(c, _)| c).collect();
    classes.sort_unstable();
    classes.dedup();
    if classes.is_empty() {
        return vec![None; n];
    }
    // Columns: the classes, then one Unknown column per face (only its own is allowed).
    let m = classes.len() + n;
    let cost = |p: f64| -p.clamp(MIN_LIKELIHOOD, 1.0 - MIN_LIKELIHOOD).ln();
    const FORBIDDEN: f64 = 1e9;
    let mut matrix = vec![vec![FORBIDDEN; m]; n];
    for (i, row) in matrix.iter_mut().enumerate() {
        for &(class, p) in &choices[i] {
            let column = classes.binary_search(&class).expect("listed");
            row[column] = cost(p);
        }
        row[classes.len() + i] = cost(unknown[i]);
    }
    hungarian(&matrix)
        .into_iter()
        .map(|column| classes.get(column).copied())
        .collect()
}

/// Minimum-cost assignment of each row to a distinct column (`rows ≤ columns`): the column of
/// each row. The O(n²·m) Hungarian method with potentials.
fn hungarian(cost: &[Vec<f64>]) -> Vec<usize> {
    let n = cost.len();
    let m = cost.first().map_or(0, Vec::len);
    assert!(n <= m, "more rows than columns");
    // 1-based arrays: row 0 and column 0 are the algorithm's sentinels.
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut row_of_column = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for row in 1..=n {
        row_of_column[0] = row;
        let mut column = 0;
        let mut min_to = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[column] = true;
            let current = row_of_column[column];
            let mut delta = f64::INFINITY;
            let mut next = 0;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let reduced = cost[current - 1][j - 1] - u[current] - v[j];
                if reduced < min_to[j] {
                    min_to[j] = reduced;
                    way[j] = column;
                }
                if min_to[j] < delta {
                    delta = min_to[j];
                    next = j;
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[row_of_column[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_to[j] -= delta;
                }
            }
            column = next;
            if row_of_column[column] == 0 {
                break;
            }
        }
        loop {
            let previous = way[column];
            row_of_column[column] = row_of_column[previous];
            column = previous;
            if column == 0 {
                break;
            }
        }
    }
    let mut column_of_row = vec![0; n];
    for j in 1..=m {
        if row_of_column[j] > 0 {
            column_of_row[row_of_column[j] - 1] = j - 1;
        }
    }
    column_of_row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_likely_assignment_never_names_anyone_twice() {
        // Both faces want Jihyo (0); the first is surer, the second has nobody else.
        let choices = vec![vec![(0, 0.9), (1, 0.3)], vec![(0, 0.6)]];
        let unknown = vec![0.1, 0.4];
        assert_eq!(
            most_likely_assignment(&choices, &unknown),
            [Some(0), None],
            "the surer face keeps her"
        );
        // A second candidate is taken only when that is more likely than Unknown overall:
        // 0.55 × 0.9 (first takes Momo, second Jihyo) beats 0.6 × 0.1 (first Jihyo, second
        // Unknown).
        let choices = vec![vec![(0, 0.6), (1, 0.55)], vec![(0, 0.9)]];
        let unknown = vec![0.4, 0.1];
        assert_eq!(
            most_likely_assignment(&choices, &unknown),
            [Some(1), Some(0)]
        );
        // Not first come: the later face is the likelier one.
        let choices = vec![vec![(2, 0.5)], vec![(2, 0.8)], vec![]];
        let unknown = vec![0.5, 0.2, 1.0];
        assert_eq!(
            most_likely_assignment(&choices, &unknown),
            [None, Some(2), None]
        );
    }

    use facefile::format::model::{
        Classifier, DecisionRule, Method, NearestNeighbourModel, RuleOrigin, SmallFaces,
        TrainingFace, TrainingSummary,
    };
    use facefile::BoundingBox;

    fn unit(x: f32, y: f32) -> Embedding {
        let n = x.hypot(y);
        Embedding::new(vec![x / n, y / n]).unwrap()
    }

    /// Jihyo at (1, 0), Mina at (0, 1); nearest neighbour.
    fn model() -> Classifier {
        Classifier {
            classes: vec!["Jihyo".into(), "Mina".into()],
            strangers: None,
            method: Method::NearestNeighbour(NearestNeighbourModel {
                temperature: 0.1,
                reason: "test".into(),
            }),
            training: vec![
                TrainingFace {
                    class: 0,
                    embedding: unit(1.0, 0.0),
                },
                TrainingFace {
                    class: 1,
                    embedding: unit(0.0, 1.0),
                },
            ],
            rule: DecisionRule {
                min_probability: 0.6,
                max_distance: None,
                split_distance: 1.0,
                origin: RuleOrigin::Published {
                    reason: "test".into(),
                },
            },
            summary: TrainingSummary::default(),
            colours: Vec::new(),
            small_faces: None,
        }
    }

    /// A track seen every 5 frames from `first` to `last`, all its faces `face`, 40 px tall.
    fn track(id: u32, first: u64, last: u64, face: &Embedding) -> Track {
        sized_track(id, first, last, face, 40)
    }

    fn sized_track(id: u32, first: u64, last: u64, face: &Embedding, height: i32) -> Track {
        let sighting = |frame| Sighting {
            frame,
            bbox: BoundingBox::new(frame as i32, 0, frame as i32 + height, height),
        };
        let mut track = Track::new(id, sighting(first), true);
        for frame in (first + 5..=last).step_by(5) {
            track.sightings.push(sighting(frame));
        }
        track.evidence.add(face, 1.0);
        track
    }

    #[test]
    fn a_name_goes_to_the_likelier_face_and_a_track_that_loses_it_for_a_while_is_split() {
        let model = model();
        // Both look like Jihyo; the first much more.
        let sure = track(0, 0, 30, &unit(1.0, 0.05));
        let unsure = track(1, 20, 50, &unit(1.0, 0.3));
        let until = vec![30, 50];
        let named = decide_tracks(vec![sure, unsure], &until, &Rules::new(&model, None), 2);
        assert_eq!(named.splits, 1);
        // (id, first frame, last frame, name, name lost to another face)
        type Piece = (u32, u64, u64, Option<usize>, Option<usize>);
        let summary: Vec<Piece> = named
            .tracks
            .iter()
            .zip(&named.decisions)
            .map(|(t, d)| {
                (
                    t.id,
                    t.first_frame(),
                    t.last_frame(),
                    d.class,
                    d.lost_to_another,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (0, 0, 30, Some(0), None),
                // Together with the surer face: Unknown (Jihyo?) …
                (1, 20, 30, None, Some(0)),
                // … and hers again once alone.
                (2, 31, 50, Some(0), None),
            ]
        );
        // The first piece is drawn up to the split, never beside the second.
        assert_eq!(named.tracks[1].shown_until, Some(30));
        assert_eq!(named.tracks[2].sightings[0].bbox.left, 31, "interpolated");
    }

    #[test]
    fn a_face_under_half_is_unknown_for_that_not_for_another_face() {
        // Three members and a bar of 40 %, as models from few photos learn: a face between
        // Jihyo and Mina is Jihyo at 47 %, alone.
        let mut three = model();
        three.classes.push("Momo".into());
        three.training.push(TrainingFace {
            class: 2,
            embedding: unit(-1.0, 0.0),
        });
        three.method = Method::NearestNeighbour(NearestNeighbourModel {
            temperature: 1.0,
            reason: "test".into(),
        });
        three.rule.min_probability = 0.4;
        let rules = Rules::new(&three, None);
        let face = unit(1.0, 0.8);
        let alone = decide_tracks(vec![track(0, 0, 10, &face)], &[10], &rules, 1);
        let photo = decide_together(&[(face, 40.0)], &rules);
        for decision in [&alone.decisions[0], &photo[0]] {
            assert_eq!(decision.class, None, "{decision:?}");
            assert_eq!(decision.candidates[0].0, 0, "{decision:?}");
            assert!((0.4..0.5).contains(&decision.probability), "{decision:?}");
            assert_eq!(decision.lost_to_another, None, "nobody else took it");
            assert!(decision.under_half);
            let reason = decision.reason.as_deref().unwrap_or_default();
            assert!(reason.contains("not likelier than not"), "{reason}");
            assert!(reason.contains(&format!("{:.1}%", decision.probability * 100.0)));
        }
    }

    #[test]
    fn small_faces_are_named_by_the_small_face_classifier() {
        // The small-face classifier has learned Jihyo's small face at (0.6, 0.8), which the main
        // classifier takes for Mina.
        let mut small = model();
        small.training[0].embedding = unit(0.6, 0.8);
        small.training[1].embedding = unit(-0.6, 0.8);
        let mut two = model();
        two.small_faces = Some(SmallFaces {
            below_height: 64.0,
            model: Box::new(small),
        });
        let rules = Rules::new(&two, None);
        let face = unit(0.6, 0.8);
        let decide_one = |height| {
            let named = decide_tracks(vec![sized_track(0, 0, 10, &face, height)], &[10], &rules, 1);
            named.decisions[0].class
        };
        assert_eq!(decide_one(40), Some(0), "a small face");
        assert_eq!(decide_one(120), Some(1), "a close-up: the main classifier");
        let photo = decide_together(&[(face.clone(), 30.0), (face, 200.0)], &rules);
        assert_eq!((photo[0].class, photo[1].class), (Some(0), Some(1)));
    }

    #[test]
    fn hungarian_finds_the_cheapest_assignment() {
        let cost = vec![
            vec![4.0, 1.0, 3.0],
            vec![2.0, 0.0, 5.0],
            vec![3.0, 2.0, 2.0],
        ];
        let columns = hungarian(&cost);
        let total: f64 = columns.iter().enumerate().map(|(r, &c)| cost[r][c]).sum();
        assert_eq!(total, 5.0, "{columns:?}");
        let mut seen = columns.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 3);
    }
}
