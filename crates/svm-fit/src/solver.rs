//! Binary linear SVM (hinge loss) by dual coordinate descent with shrinking — LIBLINEAR's solver
//! (Hsieh, Chang, Lin, Keerthi & Sundararajan, ICML 2008). The bias is learned as the weight of an
//! extra constant feature, as LIBLINEAR does with `-B 1`.
//!
//! Measured against smartcore's SMO-based `SVC` on the real seed embeddings: the same accuracy, tens
//! of times faster (see `make bench`); smartcore stays as a cross-check in the tests.

use crate::rng::Rng;

/// Stopping tolerance on the projected-gradient spread (LIBLINEAR uses 0.1; tighter is cheap here).
const TOLERANCE: f64 = 0.1;
const MAX_EPOCHS: usize = 2000;

/// A fitted hyperplane: decision value `weights · x + bias`, positive for the positive class.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    pub weights: Vec<f64>,
    pub bias: f64,
}

impl LinearModel {
    pub fn decision(&self, x: &[f64]) -> f64 {
        dot(&self.weights, x) + self.bias
    }
}

/// Dot product with eight independent accumulators: a single running sum is a chain of dependent
/// additions the compiler may not reorder, and this loop is where fitting spends its time.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// Fits `rows` (all the same length) with labels `positive[i]`, regularisation `c`.
/// Returns `None` when one class is missing.
pub fn fit(rows: &[&[f64]], positive: &[bool], c: f64, rng: &mut Rng) -> Option<LinearModel> {
    let n = rows.len();
    if !positive.iter().any(|&p| p) || positive.iter().all(|&p| p) {
        return None;
    }
    let dim = rows[0].len();
    let y: Vec<f64> = positive
        .iter()
        .map(|&p| if p { 1.0 } else { -1.0 })
        .collect();
    // Squared norms including the constant bias feature (1.0).
    let qd: Vec<f64> = rows.iter().map(|x| dot(x, x) + 1.0).collect();
    let mut alpha = vec![0.0; n];
    let mut w = vec![0.0; dim];
    let mut b = 0.0;
    let mut index: Vec<usize> = (0..n).collect();
    let mut active = n;
    let (mut pg_max_old, mut pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
    for _ in 0..MAX_EPOCHS {
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        rng.shuffle(&mut index[..active]);
        let mut s = 0;
        while s < active {
            let i = index[s];
            let g = y[i] * (dot(&w, rows[i]) + b) - 1.0;
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else if alpha[i] == c {
                if g < pg_min_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g > 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qd[i]).clamp(0.0, c);
                let step = (alpha[i] - old) * y[i];
                for (wj, xj) in w.iter_mut().zip(rows[i]) {
                    *wj += step * xj;
                }
                b += step;
            }
            s += 1;
        }
        if pg_max - pg_min <= TOLERANCE {
            if active == n {
                break;
            }
            // Converged on the active set: check every point once more before stopping.
            active = n;
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
        pg_min_old = if pg_min >= 0.0 {
            f64::NEG_INFINITY
        } else {
            pg_min
        };
    }
    Some(LinearModel {
        weights: w,
        bias: b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_blobs_and_is_reproducible() {
        let mut rng = Rng::new(7);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for i in 0..200 {
            let positive = i % 2 == 0;
            let centre = if positive { 0.3 } else { -0.3 };
            let row: Vec<f64> = (0..8)
                .map(|_| centre + (rng.below(1000) as f64 / 1000.0 - 0.5) * 0.4)
                .collect();
            data.push(row);
            labels.push(positive);
        }
        let rows: Vec<&[f64]> = data.iter().map(|r| r.as_slice()).collect();
        let model = fit(&rows, &labels, 1.0, &mut Rng::new(1)).unwrap();
        let correct = rows
            .iter()
            .zip(&labels)
            .filter(|(x, &p)| (model.decision(x) > 0.0) == p)
            .count();
        assert_eq!(correct, 200);
        assert_eq!(fit(&rows, &labels, 1.0, &mut Rng::new(1)).unwrap(), model);
        assert!(fit(&rows[..1], &labels[..1], 1.0, &mut Rng::new(1)).is_none());
    }
}
