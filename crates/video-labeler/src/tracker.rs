//! Tracks: one person's face from keyframe to keyframe, matched by box overlap, broken at cuts and
//! wherever the face's embedding jumps away from the track's (a cut the cut rule missed, two people
//! crossing), so a track never pools two people. Each track gathers its faces' embeddings as
//! evidence; the name is decided once the whole track has been seen.

use classifier::{face_weight, TrackEvidence};
use facefile::{BoundingBox, Embedding};

/// Boxes overlapping at least this much at consecutive keyframes are the same face.
const MATCH_IOU: f64 = 0.3;
/// Small faces in a dancing group move more than their own size between keyframes, so boxes that
/// barely overlap also match when their centres are closer than this many face widths and their
/// sizes are alike.
const MATCH_CENTRE_WIDTHS: f64 = 0.8;
/// Sizes are alike when the larger is at most this many times the smaller.
const MATCH_SIZE_RATIO: f64 = 1.6;
/// Faces smaller than this (pixels tall) never split a track: their embeddings are too noisy to
/// tell one person from another, and their track follows them by position.
const MIN_SPLIT_FACE_HEIGHT: f32 = 96.0;

/// How well a detection continues a track's last box: IoU when they overlap enough, else a lower
/// score from how close their centres are (0 = no match).
fn match_score(detection: &BoundingBox, previous: &BoundingBox) -> f64 {
    let iou = detection.iou(previous);
    if iou >= MATCH_IOU {
        return iou;
    }
    let (a, b) = (
        detection.width().max(1) as f64,
        previous.width().max(1) as f64,
    );
    if a.max(b) / a.min(b) > MATCH_SIZE_RATIO {
        return 0.0;
    }
    let (dx, dy) = (
        detection.centre().0 - previous.centre().0,
        detection.centre().1 - previous.centre().1,
    );
    let distance = dx.hypot(dy) / a.max(b);
    if distance < MATCH_CENTRE_WIDTHS {
        MATCH_IOU * (1.0 - distance / MATCH_CENTRE_WIDTHS)
    } else {
        0.0
    }
}
/// A track's first this many faces are also embedded mirrored.
pub const MIRRORED_FACES: u32 = 4;
/// A face moving at most this share of its width a frame is steady (a close-up, a still shot).
pub const STEADY_MOTION: f64 = 0.02;
/// A track survives this many keyframes without a detection (its box is interpolated over the
/// gap), so a missed detection does not end the label.
const MAX_MISSED: u32 = 1;

/// A face at a keyframe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sighting {
    pub frame: u64,
    pub bbox: BoundingBox,
}

#[derive(Debug, Clone)]
pub struct Track {
    pub id: u32,
    /// Where the face was seen, in frame order.
    pub sightings: Vec<Sighting>,
    pub evidence: TrackEvidence,
    /// Set on the earlier piece of a split track: drawn up to this frame and no further (the next
    /// piece takes over).
    pub shown_until: Option<u64>,
    /// The keyframe at which it was first not seen again (its box is drawn until just before).
    pub missed_at: Option<u64>,
    missed: u32,
    keyframes_since_embedding: u32,
}

impl Track {
    pub(crate) fn new(id: u32, sighting: Sighting, unit: bool) -> Track {
        Track {
            id,
            sightings: vec![sighting],
            evidence: TrackEvidence::new(unit),
            shown_until: None,
            missed_at: None,
            missed: 0,
            keyframes_since_embedding: 0,
        }
    }

    /// The rest of this track from `sightings` on, as a track of its own with the same faces as
    /// evidence; this one is then drawn only up to its own last sighting.
    pub fn continued(&mut self, id: u32, sightings: Vec<Sighting>) -> Track {
        self.shown_until = Some(self.last_frame());
        Track {
            id,
            sightings,
            evidence: self.evidence.clone(),
            shown_until: None,
            missed_at: None,
            missed: 0,
            keyframes_since_embedding: 0,
        }
    }

    pub fn first_frame(&self) -> u64 {
        self.sightings[0].frame
    }

    /// The height (pixels) of its middle-sized face: how big the person is on screen, steady
    /// under a few boxes that are too large or too small.
    pub fn median_face_height(&self) -> f32 {
        let mut heights: Vec<i32> = self.sightings.iter().map(|s| s.bbox.height()).collect();
        heights.sort_unstable();
        heights[heights.len() / 2] as f32
    }

    pub fn last_frame(&self) -> u64 {
        self.sightings.last().expect("a track has a sighting").frame
    }

    pub fn bbox(&self) -> BoundingBox {
        self.sightings.last().expect("a track has a sighting").bbox
    }

    /// Whether this face is also embedded mirrored: the mirror image steadies a track's first
    /// faces (a single face's embedding is noisy), and adds little once it has many.
    pub fn wants_mirror(&self) -> bool {
        self.evidence.faces() < MIRRORED_FACES
    }

    /// Whether to embed the face at this keyframe: at the first two keyframes, then every other,
    /// then every fourth, then every eighth once the track has plenty of faces (embedding is the
    /// costliest step, and the sixteenth face of a track adds little to its pooled face); each
    /// embedding also checks that the face is still the same person.
    pub fn wants_embedding(&self) -> bool {
        let faces = self.evidence.faces();
        let interval = match faces {
            0..=1 => 1,
            2..=7 => 2,
            8..=15 => 4,
            _ => 8,
        };
        faces == 0 || self.keyframes_since_embedding >= interval
    }
}

/// An embedded face for [`Tracker::add_embedding`].
pub struct EmbeddedFace<'a> {
    pub embedding: &'a Embedding,
    pub height: f32,
    pub confidence: f32,
}

#[derive(Debug)]
pub struct Tracker {
    pub active: Vec<Track>,
    pub ended: Vec<Track>,
    /// The id the next track gets (split pieces made later take theirs from here too).
    pub next_id: u32,
    /// The embedder's vectors have unit length.
    unit: bool,
    /// A face farther than this from its track's mean face starts a new track.
    split_distance: f32,
    /// Tracks split because a face's embedding jumped.
    pub splits: u32,
}

impl Tracker {
    pub fn new(unit: bool, split_distance: f32) -> Tracker {
        Tracker {
            active: Vec::new(),
            ended: Vec::new(),
            next_id: 0,
            unit,
            split_distance,
            splits: 0,
        }
    }

    /// Matches this keyframe's detections to the active tracks (greedy by overlap). Returns, for
    /// each detection, the index of its track in `active`. After a cut every face is a new track.
    pub fn update(&mut self, frame: u64, detections: &[BoundingBox], cut: bool) -> Vec<usize> {
        if cut {
            self.ended.append(&mut self.active);
        }
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (d, det) in detections.iter().enumerate() {
            for (t, track) in self.active.iter().enumerate() {
                let score = match_score(det, &track.bbox());
                if score > 0.0 {
                    pairs.push((score, d, t));
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
                track.missed_at = None;
            } else {
                track.missed += 1;
                track.missed_at.get_or_insert(frame);
            }
        }
        for (d, det) in detections.iter().enumerate() {
            let sighting = Sighting { frame, bbox: *det };
            if det_track[d] == usize::MAX {
                det_track[d] = self.active.len();
                self.active
                    .push(Track::new(self.next_id, sighting, self.unit));
                self.next_id += 1;
            } else {
                self.active[det_track[d]].sightings.push(sighting);
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

    /// Adds the embedding of the face track `index` was just matched to. When it lies farther than
    /// the split distance from the track's mean face, the track ends at its previous sighting and
    /// this face starts a new one (the returned index is then the new track's).
    pub fn add_embedding(&mut self, index: usize, face: EmbeddedFace) -> usize {
        let weight = face_weight(face.height, face.confidence);
        let jumped = face.height >= MIN_SPLIT_FACE_HEIGHT
            && self.active[index]
                .evidence
                .distance_to_mean(face.embedding)
                .is_some_and(|d| d > self.split_distance);
        let index = if jumped && self.active[index].sightings.len() > 1 {
            let sighting = self.active[index]
                .sightings
                .pop()
                .expect("more than one sighting");
            let mut fresh = Track::new(self.next_id, sighting, self.unit);
            self.next_id += 1;
            self.splits += 1;
            let old = std::mem::replace(&mut self.active[index], {
                fresh.keyframes_since_embedding = 0;
                fresh
            });
            self.ended.push(old);
            index
        } else {
            index
        };
        let track = &mut self.active[index];
        track.evidence.add(face.embedding, weight);
        track.keyframes_since_embedding = 0;
        index
    }

    /// Whether every face on screen was seen at keyframe `frame`, each continuing a track of two
    /// sightings or more, and none moved more than [`STEADY_MOTION`] of its width a frame since
    /// its previous sighting: boxes can be interpolated over longer gaps.
    pub fn steady(&self, frame: u64) -> bool {
        !self.active.is_empty()
            && self.active.iter().all(|track| {
                let [.., before, now] = track.sightings.as_slice() else {
                    return false;
                };
                if track.missed > 0 || now.frame != frame || now.frame <= before.frame {
                    return false;
                }
                let (a, b) = (before.bbox.centre(), now.bbox.centre());
                let moved = (b.0 - a.0).hypot(b.1 - a.1) / (now.frame - before.frame) as f64;
                moved <= STEADY_MOTION * now.bbox.width().max(1) as f64
            })
    }

    /// Ends every active track (at a cut, or at the end of the video).
    pub fn end_all(&mut self) {
        self.ended.append(&mut self.active);
    }

    /// The tracks that have ended since the last call, by id.
    pub fn take_ended(&mut self) -> Vec<Track> {
        let mut ended = std::mem::take(&mut self.ended);
        ended.sort_by_key(|t| t.id);
        ended
    }

    /// Every track, by id.
    #[cfg(test)]
    pub fn finish(mut self) -> Vec<Track> {
        self.ended.append(&mut self.active);
        self.ended.sort_by_key(|t| t.id);
        self.ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(values: &[f32]) -> Embedding {
        Embedding::new(values.to_vec()).unwrap()
    }

    fn face(embedding: &Embedding) -> EmbeddedFace<'_> {
        EmbeddedFace {
            embedding,
            height: 120.0,
            confidence: 1.0,
        }
    }

    #[test]
    fn a_moving_face_keeps_its_track_and_missed_detections_are_bridged() {
        let mut tracker = Tracker::new(false, 0.5);
        let mut bbox = BoundingBox::new(100, 100, 200, 200);
        for frame in [0, 3, 6, 9] {
            bbox.left += 5;
            bbox.right += 5;
            let index = tracker.update(frame, &[bbox], false);
            assert_eq!(index, [0]);
        }
        // Missed once: kept; missed twice: ended.
        tracker.update(12, &[], false);
        assert_eq!(tracker.active.len(), 1);
        tracker.update(15, &[], false);
        assert!(tracker.active.is_empty());
        let tracks = tracker.finish();
        assert_eq!(tracks.len(), 1);
        assert_eq!((tracks[0].first_frame(), tracks[0].last_frame()), (0, 9));
    }

    #[test]
    fn cuts_and_embedding_jumps_start_new_tracks() {
        let mut tracker = Tracker::new(false, 0.5);
        let bbox = BoundingBox::new(0, 0, 80, 80);
        let mina = e(&[1.0, 0.0]);
        let nayeon = e(&[0.0, 1.0]);
        let i = tracker.update(0, &[bbox], false)[0];
        tracker.add_embedding(i, face(&mina));
        let i = tracker.update(3, &[bbox], false)[0];
        assert_eq!(tracker.add_embedding(i, face(&mina)), i);
        // A tiny face never splits: its embedding is too noisy to tell.
        let i = tracker.update(5, &[bbox], false)[0];
        let tiny = EmbeddedFace {
            embedding: &nayeon,
            height: 20.0,
            confidence: 1.0,
        };
        let i = tracker.add_embedding(i, tiny);
        assert_eq!(tracker.active[i].id, 0);
        // Same place, another person (a cut the cut rule missed): a new track from this keyframe.
        let i = tracker.update(6, &[bbox], false)[0];
        let i = tracker.add_embedding(i, face(&nayeon));
        assert_eq!(tracker.active[i].id, 1);
        assert_eq!(tracker.active[i].first_frame(), 6);
        assert_eq!(tracker.splits, 1);
        // A cut ends the track even if the box is in the same place.
        let i = tracker.update(9, &[bbox], true)[0];
        assert_eq!(tracker.active[i].id, 2);
        let tracks = tracker.finish();
        assert_eq!(tracks.len(), 3);
        assert_eq!(
            tracks[0].last_frame(),
            5,
            "the first track ends before the jump"
        );
        assert_eq!(tracks[0].evidence.faces(), 3);
    }

    #[test]
    fn still_faces_are_steady_and_moving_or_new_ones_are_not() {
        let mut tracker = Tracker::new(false, 0.5);
        let at = |x: i32| BoundingBox::new(x, 0, x + 99, 99);
        tracker.update(0, &[at(0)], true);
        assert!(!tracker.steady(0), "a new face: not yet");
        tracker.update(3, &[at(3)], false);
        assert!(tracker.steady(3), "1 px a frame on a 100-px face");
        tracker.update(6, &[at(30)], false);
        assert!(!tracker.steady(6), "9 px a frame");
        tracker.update(9, &[at(31), at(500)], false);
        assert!(!tracker.steady(9), "someone new came in");
        tracker.update(12, &[at(32)], false);
        assert!(!tracker.steady(12), "someone was not seen");
    }

    #[test]
    fn small_fast_faces_match_by_their_centres() {
        let previous = BoundingBox::new(100, 100, 129, 129);
        // Moved by 20 px (two thirds of its width): no overlap worth the name, same face.
        assert!(match_score(&BoundingBox::new(120, 100, 149, 129), &previous) > 0.0);
        // Too far, or a very different size: another face.
        assert_eq!(
            match_score(&BoundingBox::new(140, 100, 169, 129), &previous),
            0.0
        );
        assert_eq!(
            match_score(&BoundingBox::new(100, 100, 179, 179), &previous),
            0.0
        );
        // Overlap wins over proximity.
        assert!(
            match_score(&previous, &previous)
                > match_score(&BoundingBox::new(110, 100, 139, 129), &previous)
        );
    }

    #[test]
    fn embedding_schedule_thins_out() {
        let mut track = Track::new(
            0,
            Sighting {
                frame: 0,
                bbox: BoundingBox::new(0, 0, 9, 9),
            },
            false,
        );
        assert!(track.wants_embedding());
        for _ in 0..3 {
            track.evidence.add(&e(&[1.0]), 1.0);
        }
        track.keyframes_since_embedding = 1;
        assert!(!track.wants_embedding());
        track.keyframes_since_embedding = 2;
        assert!(track.wants_embedding());
    }
}
