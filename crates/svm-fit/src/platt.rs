//! Platt scaling: fitting P(positive | f) = 1 / (1 + exp(A·f + B)) to decision values, with the
//! Newton method and target smoothing of Lin, Lin & Weng (2007), as libsvm's `sigmoid_train`.

/// Returns `(A, B)`.
pub fn fit_sigmoid(decisions: &[f64], positive: &[bool]) -> (f64, f64) {
    let prior1 = positive.iter().filter(|&&p| p).count() as f64;
    let prior0 = positive.len() as f64 - prior1;
    let (max_iter, min_step, sigma, eps) = (100, 1e-10, 1e-12, 1e-5);
    let hi = (prior1 + 1.0) / (prior1 + 2.0);
    let lo = 1.0 / (prior0 + 2.0);
    let t: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
    let objective = |a: f64, b: f64| -> f64 {
        decisions
            .iter()
            .zip(&t)
            .map(|(&f, &ti)| {
                let f_apb = f * a + b;
                if f_apb >= 0.0 {
                    ti * f_apb + (1.0 + (-f_apb).exp()).ln()
                } else {
                    (ti - 1.0) * f_apb + (1.0 + f_apb.exp()).ln()
                }
            })
            .sum()
    };
    let mut a = 0.0;
    let mut b = ((prior0 + 1.0) / (prior1 + 1.0)).ln();
    let mut fval = objective(a, b);
    for _ in 0..max_iter {
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (sigma, sigma, 0.0, 0.0, 0.0);
        for (&f, &ti) in decisions.iter().zip(&t) {
            let f_apb = f * a + b;
            let (p, q) = if f_apb >= 0.0 {
                let e = (-f_apb).exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            } else {
                let e = f_apb.exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            };
            let d2 = p * q;
            h11 += f * f * d2;
            h22 += d2;
            h21 += f * d2;
            let d1 = ti - p;
            g1 += f * d1;
            g2 += d1;
        }
        if g1.abs() < eps && g2.abs() < eps {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let gd = g1 * da + g2 * db;
        let mut step = 1.0;
        while step >= min_step {
            let (new_a, new_b) = (a + step * da, b + step * db);
            let new_f = objective(new_a, new_b);
            if new_f < fval + 0.0001 * step * gd {
                a = new_a;
                b = new_b;
                fval = new_f;
                break;
            }
            step /= 2.0;
        }
        if step < min_step {
            break;
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use classifier::predict::sigmoid_probability;

    #[test]
    fn separable_scores_give_confident_monotone_probabilities() {
        let decisions: Vec<f64> = (-10..=10).map(|i| i as f64 / 5.0).collect();
        let positive: Vec<bool> = decisions.iter().map(|&d| d > 0.0).collect();
        let (a, b) = fit_sigmoid(&decisions, &positive);
        assert!(
            a < 0.0,
            "A must be negative for positive decisions to mean positive: {a}"
        );
        let p_hi = sigmoid_probability(2.0, a, b);
        let p_lo = sigmoid_probability(-2.0, a, b);
        assert!(p_hi > 0.9 && p_lo < 0.1, "{p_hi} {p_lo}");
        assert!((sigmoid_probability(0.0, a, b) - 0.5).abs() < 0.1);
    }
}
