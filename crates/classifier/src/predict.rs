//! Probabilities over the known people.
//!
//! - One-vs-one linear SVMs, each pair's decision value calibrated by Platt's sigmoid, the pairs
//!   coupled into one distribution (libsvm's method: Platt 2000; Lin, Lin & Weng 2007; Wu, Lin &
//!   Weng 2004).
//! - Nearest neighbour for few-shot models: a softmax of minus each person's nearest distance.
//!
//! A model trained with strangers has one more class, "someone else"; its probability is kept
//! apart ([`Prediction::stranger`]) and the candidates are the members only.

use facefile::format::model::{Classifier, Method, PairModel, SvmModel};
use facefile::Embedding;

/// Pairwise probabilities are kept inside (ε, 1-ε), as libsvm does, so coupling stays finite.
const MIN_PAIR_PROBABILITY: f64 = 1e-7;

/// The classifier's view of one face.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Probability of each member; with `stranger`, they sum to 1.
    pub probabilities: Vec<f64>,
    /// Probability that the face is someone else (0 for a model trained without strangers).
    pub stranger: f64,
    /// The most probable member.
    pub class: usize,
    pub probability: f64,
    /// Distance to the nearest training face of `class`.
    pub distance: f32,
}

impl Prediction {
    /// The `n` most probable classes with their probabilities, best first.
    pub fn top(&self, n: usize) -> Vec<(usize, f64)> {
        let mut ranked: Vec<(usize, f64)> =
            self.probabilities.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(n);
        ranked
    }
}

/// A model ready to predict.
pub struct Predictor<'a> {
    pub model: &'a Classifier,
}

impl<'a> Predictor<'a> {
    pub fn new(model: &'a Classifier) -> Predictor<'a> {
        Predictor { model }
    }

    /// The members.
    pub fn classes(&self) -> usize {
        self.model.classes.len()
    }

    /// Probabilities over the members (and someone else) and the distance to the winner's
    /// training faces.
    pub fn predict(&self, embedding: &Embedding) -> Prediction {
        let mut probabilities = match &self.model.method {
            Method::Svm(svm) => svm_probabilities(svm, self.model.class_count(), embedding),
            Method::NearestNeighbour(nn) => {
                softmax_of_negative(&self.nearest_per_class(embedding), nn.temperature as f64)
            }
        };
        let stranger = if self.model.strangers.is_some() {
            probabilities.pop().unwrap_or(0.0)
        } else {
            0.0
        };
        let (class, &probability) = probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .expect("at least one class");
        let distance = self.nearest_distance(embedding, class);
        Prediction {
            probabilities,
            stranger,
            class,
            probability,
            distance,
        }
    }

    /// Distance from `embedding` to the nearest training face of `class`.
    pub fn nearest_distance(&self, embedding: &Embedding, class: usize) -> f32 {
        self.model
            .training
            .iter()
            .filter(|t| t.class as usize == class)
            .map(|t| t.embedding.distance(embedding))
            .fold(f32::INFINITY, f32::min)
    }

    fn nearest_per_class(&self, embedding: &Embedding) -> Vec<f64> {
        let mut nearest = vec![f64::INFINITY; self.model.class_count()];
        for face in &self.model.training {
            let d = face.embedding.distance(embedding) as f64;
            let slot = &mut nearest[face.class as usize];
            *slot = slot.min(d);
        }
        nearest
    }
}

/// Softmax of minus the distances over `temperature` (classes without a finite distance get 0).
pub fn softmax_of_negative(distances: &[f64], temperature: f64) -> Vec<f64> {
    let best = distances.iter().cloned().fold(f64::INFINITY, f64::min);
    if !best.is_finite() {
        return vec![1.0 / distances.len() as f64; distances.len()];
    }
    let weights: Vec<f64> = distances
        .iter()
        .map(|d| (-(d - best) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

/// The decision value of one pair: positive favours `first`.
pub fn decision_value(pair: &PairModel, embedding: &Embedding) -> f64 {
    let x = embedding.values();
    let mut lanes = [0f64; 8];
    let (w_chunks, x_chunks) = (pair.weights.chunks_exact(8), x.chunks_exact(8));
    let tail: f64 = w_chunks
        .remainder()
        .iter()
        .zip(x_chunks.remainder())
        .map(|(w, v)| w * *v as f64)
        .sum();
    for (w, v) in w_chunks.zip(x_chunks) {
        for lane in 0..8 {
            lanes[lane] += w[lane] * v[lane] as f64;
        }
    }
    lanes.iter().sum::<f64>() + tail + pair.bias
}

/// Platt's sigmoid P(positive | f) = 1 / (1 + exp(a·f + b)), computed without overflow.
pub fn sigmoid_probability(decision: f64, a: f64, b: f64) -> f64 {
    let f_apb = decision * a + b;
    if f_apb >= 0.0 {
        (-f_apb).exp() / (1.0 + (-f_apb).exp())
    } else {
        1.0 / (1.0 + f_apb.exp())
    }
}

fn svm_probabilities(svm: &SvmModel, classes: usize, embedding: &Embedding) -> Vec<f64> {
    let mut pairwise = vec![vec![0.0; classes]; classes];
    for pair in &svm.pairs {
        let p = sigmoid_probability(decision_value(pair, embedding), pair.platt_a, pair.platt_b)
            .clamp(MIN_PAIR_PROBABILITY, 1.0 - MIN_PAIR_PROBABILITY);
        pairwise[pair.first as usize][pair.second as usize] = p;
        pairwise[pair.second as usize][pair.first as usize] = 1.0 - p;
    }
    couple_pairwise(&pairwise)
}

/// Pairwise coupling (Wu, Lin & Weng 2004, method 2; libsvm's `multiclass_probability`):
/// `r[i][j]` ≈ P(i | i or j) → one distribution over the classes.
pub fn couple_pairwise(r: &[Vec<f64>]) -> Vec<f64> {
    let k = r.len();
    let mut p = vec![1.0 / k as f64; k];
    if k == 1 {
        return p;
    }
    let mut q = vec![vec![0.0; k]; k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t][t] += r[j][t] * r[j][t];
                q[t][j] = -r[j][t] * r[t][j];
            }
        }
    }
    let max_iter = 100.max(k);
    let eps = 0.005 / k as f64;
    let mut qp = vec![0.0; k];
    for _ in 0..max_iter {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = (0..k).map(|j| q[t][j] * p[j]).sum();
            pqp += p[t] * qp[t];
        }
        let max_error = qp.iter().map(|v| (v - pqp).abs()).fold(0.0, f64::max);
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupling_recovers_a_consistent_distribution() {
        // Pairwise probabilities generated from p = (0.6, 0.3, 0.1): r_ij = p_i / (p_i + p_j).
        let truth = [0.6, 0.3, 0.1];
        let r: Vec<Vec<f64>> = (0..3)
            .map(|i| {
                (0..3)
                    .map(|j| {
                        if i == j {
                            0.0
                        } else {
                            truth[i] / (truth[i] + truth[j])
                        }
                    })
                    .collect()
            })
            .collect();
        let p = couple_pairwise(&r);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        for (got, want) in p.iter().zip(truth) {
            assert!((got - want).abs() < 0.01, "{p:?}");
        }
    }

    #[test]
    fn sigmoid_is_stable_at_extremes() {
        assert!((sigmoid_probability(0.0, -2.0, 0.0) - 0.5).abs() < 1e-12);
        assert!(sigmoid_probability(1e6, -1.0, 0.0) > 0.999_999);
        assert!(sigmoid_probability(-1e6, -1.0, 0.0) < 1e-6);
        assert!(sigmoid_probability(-1e6, -1.0, 0.0).is_finite());
    }

    #[test]
    fn nearest_neighbour_probabilities_favour_the_closest_person() {
        let p = softmax_of_negative(&[0.3, 0.5, 0.9], 0.05);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[0] > 0.98, "{p:?}");
        assert_eq!(
            softmax_of_negative(&[f64::INFINITY; 2], 0.05),
            vec![0.5, 0.5]
        );
    }

    #[test]
    fn top_candidates_are_ranked() {
        let prediction = Prediction {
            probabilities: vec![0.2, 0.5, 0.3],
            stranger: 0.0,
            class: 1,
            probability: 0.5,
            distance: 0.1,
        };
        assert_eq!(prediction.top(2), vec![(1, 0.5), (2, 0.3)]);
    }
}
