//! Pooling a track's faces into one decision.
//!
//! A track is one person seen over many frames; its faces are noisy views of one identity. Their
//! embeddings are averaged (weighted by how much each face can be trusted: its size and the
//! detector's confidence) and the mean face is classified once, with the same rule as a single
//! photo. Averaging cancels the blur, pose and lighting of single frames, so a track of twelve
//! faces that all lean to one member lands close to her photos; a stranger's faces average to a
//! stranger's face, which stays far from every member's photos. (Summing per-face log-probabilities
//! would make any consistent stranger certain, since frames of one shot are not independent.)
//!
//! Each face enters as [`face_vector`]: its embedding and its mirror image's, pooled. The network
//! is not symmetric, so the two views of one face differ a little, and their mean is a steadier
//! description of the face than either (measured on the TWICE clips: tracks score further above the
//! threshold that keeps strangers out). Training photos get the same two views.

use facefile::Embedding;

/// One face as it is scored: the mean of its views (its embedding, and its mirror image's when
/// there is one), scaled back to unit length when the embedder's vectors have unit length.
pub fn face_vector(embedding: &Embedding, mirror: Option<&Embedding>, unit: bool) -> Embedding {
    match mirror {
        None => embedding.clone(),
        Some(mirror) => Embedding::weighted_mean([(embedding, 1.0), (mirror, 1.0)], unit)
            .unwrap_or_else(|| embedding.clone()),
    }
}

/// Faces this tall (in pixels) and taller count fully; smaller ones count less, as they carry less
/// detail.
pub const FULL_WEIGHT_FACE_HEIGHT: f32 = 96.0;
/// The least a face counts, however small.
pub const MIN_FACE_WEIGHT: f32 = 0.05;

/// How much one face counts in its track: its size (relative to a face big enough to show every
/// feature) times the detector's confidence (0–1).
pub fn face_weight(face_height: f32, confidence: f32) -> f32 {
    let size = (face_height / FULL_WEIGHT_FACE_HEIGHT).clamp(0.0, 1.0);
    (size * size * confidence.clamp(0.0, 1.0)).max(MIN_FACE_WEIGHT)
}

/// The weighted faces of one track.
#[derive(Debug, Clone, Default)]
pub struct TrackEvidence {
    sum: Vec<f64>,
    weight: f64,
    faces: u32,
    unit: bool,
}

impl TrackEvidence {
    /// `unit`: the embedder's vectors have unit length (the mean is scaled back onto the sphere).
    pub fn new(unit: bool) -> TrackEvidence {
        TrackEvidence {
            unit,
            ..TrackEvidence::default()
        }
    }

    pub fn add(&mut self, embedding: &Embedding, weight: f32) {
        let weight = weight.max(MIN_FACE_WEIGHT) as f64;
        if self.sum.is_empty() {
            self.sum = vec![0.0; embedding.dimension()];
        }
        for (s, v) in self.sum.iter_mut().zip(embedding.values()) {
            *s += *v as f64 * weight;
        }
        self.weight += weight;
        self.faces += 1;
    }

    /// Faces added so far.
    pub fn faces(&self) -> u32 {
        self.faces
    }

    /// The weighted mean face, `None` before the first face.
    pub fn mean(&self) -> Option<Embedding> {
        if self.faces == 0 {
            return None;
        }
        let mut values: Vec<f32> = self.sum.iter().map(|s| (s / self.weight) as f32).collect();
        if self.unit {
            let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                values.iter_mut().for_each(|v| *v /= norm);
            }
        }
        Embedding::new(values)
    }

    /// How far `embedding` lies from the track's mean face (`None` before the first face).
    pub fn distance_to_mean(&self, embedding: &Embedding) -> Option<f32> {
        self.mean().map(|mean| mean.distance(embedding))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(values: &[f32]) -> Embedding {
        Embedding::new(values.to_vec()).unwrap()
    }

    #[test]
    fn a_face_and_its_mirror_image_are_pooled() {
        let plain = e(&[1.0, 0.0]);
        let mirror = e(&[0.0, 1.0]);
        assert_eq!(face_vector(&plain, None, true), plain);
        let both = face_vector(&plain, Some(&mirror), true);
        let half = std::f32::consts::FRAC_1_SQRT_2;
        assert!((both.values()[0] - half).abs() < 1e-6 && (both.values()[1] - half).abs() < 1e-6);
        assert_eq!(
            face_vector(&plain, Some(&mirror), false).values(),
            &[0.5, 0.5]
        );
    }

    #[test]
    fn weights_follow_size_and_confidence() {
        assert_eq!(face_weight(200.0, 1.0), 1.0);
        assert!((face_weight(48.0, 1.0) - 0.25).abs() < 1e-6);
        assert!((face_weight(96.0, 0.5) - 0.5).abs() < 1e-6);
        assert_eq!(face_weight(2.0, 0.0), MIN_FACE_WEIGHT);
    }

    #[test]
    fn the_mean_leans_to_the_trusted_faces() {
        let mut track = TrackEvidence::new(false);
        assert!(track.mean().is_none());
        track.add(&e(&[1.0, 0.0]), 1.0);
        track.add(&e(&[0.0, 1.0]), 0.25);
        assert_eq!(track.faces(), 2);
        assert_eq!(track.mean().unwrap().values(), &[0.8, 0.2]);
        let jump = track.distance_to_mean(&e(&[0.8, 0.2])).unwrap();
        assert!(jump.abs() < 1e-6);

        let mut sphere = TrackEvidence::new(true);
        sphere.add(&e(&[1.0, 0.0]), 1.0);
        sphere.add(&e(&[0.0, 1.0]), 1.0);
        let m = sphere.mean().unwrap();
        assert!((m.values()[0].hypot(m.values()[1]) - 1.0).abs() < 1e-6);
    }
}
