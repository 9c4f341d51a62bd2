//! Tracks: the same face from keyframe to keyframe, matched by box overlap, with a vote over the
//! track's embeddings so one bad frame cannot flip a name.

use facecore::labels::TrackSummary;
use facecore::{BoundingBox, ClassifierFile, Prediction};

/// Boxes overlapping at least this much at consecutive keyframes are the same face.
const MATCH_IOU: f64 = 0.3;
/// A track survives this many keyframes without a detection (held box), so a missed detection
/// does not end the label.
const MAX_MISSED: u32 = 1;

#[derive(Debug, Clone)]
pub struct Track {
    pub id: u32,
    /// Box at the last keyframe where the face was seen (frame pixels).
    pub bbox: BoundingBox,
    pub first_frame: u64,
    pub last_frame: u64,
    pub missed: u32,
    votes: Vec<f64>,
    samples: u32,
    far: u32,
    keyframes_since_embedding: u32,
}

/// What to show for a track now.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub class: Option<usize>,
    pub probability: f64,
}

impl Track {
    /// Whether to compute an embedding at this keyframe: when new, then often while the vote is
    /// young, then now and then to re-check.
    pub fn wants_embedding(&self) -> bool {
        let interval = if self.samples < 4 { 2 } else { 8 };
        self.samples == 0 || self.keyframes_since_embedding >= interval
    }

    pub fn vote(&mut self, prediction: &Prediction, model: &ClassifierFile) {
        if self.votes.is_empty() {
            self.votes = vec![0.0; prediction.probabilities.len()];
        }
        for (v, p) in self.votes.iter_mut().zip(&prediction.probabilities) {
            *v += p;
        }
        self.samples += 1;
        self.far += (prediction.distance > model.unknown_distance) as u32;
        self.keyframes_since_embedding = 0;
    }

    /// The probability-weighted vote: the class with the largest summed probability, shown when its
    /// mean probability reaches the threshold and most embeddings were within the distance gate.
    pub fn identity(&self, threshold: f64) -> Identity {
        if self.samples == 0 {
            return Identity {
                class: None,
                probability: 0.0,
            };
        }
        let (class, total) = self
            .votes
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(c, &t)| (c, t))
            .expect("classes");
        let probability = total / self.samples as f64;
        let near = self.far * 2 < self.samples;
        Identity {
            class: (probability >= threshold && near).then_some(class),
            probability,
        }
    }

    pub fn summary(&self, threshold: f64, classes: &[String]) -> TrackSummary {
        let identity = self.identity(threshold);
        TrackSummary {
            id: self.id,
            first_frame: self.first_frame,
            last_frame: self.last_frame,
            name: identity.class.map(|c| classes[c].clone()),
            probability: identity.probability,
            votes: self.samples,
        }
    }
}

#[derive(Debug, Default)]
pub struct Tracker {
    pub active: Vec<Track>,
    pub ended: Vec<Track>,
    next_id: u32,
}

impl Tracker {
    /// Matches this keyframe's detections to the active tracks (greedy by overlap). Returns, for
    /// each detection, the index of its track in `active`. After a cut every face is a new track.
    pub fn update(&mut self, frame: u64, detections: &[BoundingBox], cut: bool) -> Vec<usize> {
        if cut {
            self.ended.append(&mut self.active);
        }
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (d, det) in detections.iter().enumerate() {
            for (t, track) in self.active.iter().enumerate() {
                let iou = det.iou(&track.bbox);
                if iou >= MATCH_IOU {
                    pairs.push((iou, d, t));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut det_track = vec![usize::MAX; detections.len()];
        let mut track_taken = vec![false; self.active.len()];
        for (_, d, t) in pairs {
            if det_track[d] == usize::MAX && !track_taken[t] {
                det_track[d] = t;
                track_taken[t] = true;
            }
        }
        for (t, track) in self.active.iter_mut().enumerate() {
            track.keyframes_since_embedding += 1;
            if track_taken[t] {
                track.missed = 0;
            } else {
                track.missed += 1;
            }
        }
        for (d, det) in detections.iter().enumerate() {
            if det_track[d] == usize::MAX {
                det_track[d] = self.active.len();
                self.active.push(Track {
                    id: self.next_id,
                    bbox: *det,
                    first_frame: frame,
                    last_frame: frame,
                    missed: 0,
                    votes: Vec::new(),
                    samples: 0,
                    far: 0,
                    keyframes_since_embedding: 0,
                });
                self.next_id += 1;
            } else {
                let track = &mut self.active[det_track[d]];
                track.bbox = *det;
                track.last_frame = frame;
            }
        }
        // Drop tracks missed too long; keep indices of the survivors valid for the caller.
        let mut index_map = vec![usize::MAX; self.active.len()];
        let mut kept = Vec::with_capacity(self.active.len());
        for (t, track) in std::mem::take(&mut self.active).into_iter().enumerate() {
            if track.missed > MAX_MISSED {
                self.ended.push(track);
            } else {
                index_map[t] = kept.len();
                kept.push(track);
            }
        }
        self.active = kept;
        det_track.iter().map(|&t| index_map[t]).collect()
    }

    pub fn finish(&mut self) -> Vec<Track> {
        self.ended.append(&mut self.active);
        let mut all = std::mem::take(&mut self.ended);
        all.sort_by_key(|t| t.id);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(probabilities: Vec<f64>, distance: f32) -> Prediction {
        let (class, &probability) = probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        Prediction {
            probabilities: probabilities.clone(),
            class,
            probability,
            distance,
        }
    }

    fn model() -> ClassifierFile {
        ClassifierFile {
            kind: String::new(),
            version: 1,
            producer: String::new(),
            models: facecore::ModelFingerprint::current(),
            classes: vec!["Mina".into(), "Nayeon".into()],
            method: facecore::classify::Method::NearestNeighbour(
                facecore::classify::NearestNeighbourModel {
                    temperature: 0.05,
                    reason: String::new(),
                },
            ),
            default_threshold: 0.7,
            unknown_distance: 0.5,
            training: Vec::new(),
            summary: Default::default(),
        }
    }

    #[test]
    fn one_bad_frame_does_not_flip_the_name() {
        let model = model();
        let mut tracker = Tracker::default();
        let face = BoundingBox::new(100, 100, 200, 200);
        let mut moved = face;
        let idx = tracker.update(0, &[face], false);
        assert_eq!(idx, [0]);
        for (frame, probabilities) in [
            (0, vec![0.9, 0.1]),
            (3, vec![0.95, 0.05]),
            (6, vec![0.1, 0.9]),
            (9, vec![0.9, 0.1]),
        ] {
            moved.left += 5;
            moved.right += 5;
            let idx = tracker.update(frame, &[moved], false);
            tracker.active[idx[0]].vote(&prediction(probabilities, 0.3), &model);
            assert_eq!(
                tracker.active[idx[0]].identity(0.6).class,
                Some(0),
                "frame {frame}"
            );
        }
        assert_eq!(tracker.active.len(), 1, "one track all along");
    }

    #[test]
    fn strangers_and_cuts() {
        let model = model();
        let mut tracker = Tracker::default();
        let face = BoundingBox::new(0, 0, 80, 80);
        tracker.update(0, &[face], false);
        // Confident but far from every training face: Unknown.
        tracker.active[0].vote(&prediction(vec![0.99, 0.01], 0.8), &model);
        assert_eq!(tracker.active[0].identity(0.7).class, None);
        // A cut ends the track even if the box is in the same place.
        let idx = tracker.update(3, &[face], true);
        assert_eq!(tracker.active[idx[0]].id, 1);
        // A face missed at one keyframe is held, then dropped.
        tracker.update(6, &[], false);
        assert_eq!(tracker.active.len(), 1);
        tracker.update(9, &[], false);
        assert!(tracker.active.is_empty());
        assert_eq!(tracker.finish().len(), 2);
    }
}
