//! Second tier: the LIBLINEAR-style solver against smartcore's SVC (the library this project
//! started from) on real pairs of TWICE members from the seed embeddings.

use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::svm::svc::{SVCParameters, SVC};
use smartcore::svm::Kernels;
use svm_fit::rng::Rng;

fn seed_rows() -> Vec<(String, Vec<f64>)> {
    let path = testdata::shared_data().join("seed/seed_embeddings.csv");
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut fields = line.split(',');
            let name = fields.next().unwrap().to_string();
            (name, fields.map(|v| v.parse().unwrap()).collect())
        })
        .collect()
}

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn solver_agrees_with_smartcore_on_real_pairs() {
    let rows = seed_rows();
    for (a, b) in [("Momo", "Sana"), ("Mina", "Chaeyoung"), ("Nayeon", "Jihyo")] {
        let pair: Vec<&(String, Vec<f64>)> =
            rows.iter().filter(|(n, _)| n == a || n == b).collect();
        let x: Vec<&[f64]> = pair.iter().map(|(_, v)| v.as_slice()).collect();
        let positive: Vec<bool> = pair.iter().map(|(n, _)| n == a).collect();
        let ours = svm_fit::solver::fit(&x, &positive, 1.0, &mut Rng::new(3)).unwrap();

        let matrix =
            DenseMatrix::from_2d_vec(&pair.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>())
                .unwrap();
        let labels: Vec<i32> = positive.iter().map(|&p| if p { 1 } else { -1 }).collect();
        let params = SVCParameters::default()
            .with_c(1.0)
            .with_kernel(Kernels::linear());
        let theirs = SVC::fit(&matrix, &labels, &params)
            .unwrap()
            .predict(&matrix)
            .unwrap();

        let agree = x
            .iter()
            .zip(&theirs)
            .filter(|(row, &t)| (ours.decision(row) > 0.0) == (t > 0.0))
            .count();
        let share = agree as f64 / x.len() as f64;
        assert!(
            share >= 0.95,
            "{a} vs {b}: the solvers agree on {share:.3} of {} faces",
            x.len()
        );
        let ours_correct = x
            .iter()
            .zip(&positive)
            .filter(|(row, &p)| (ours.decision(row) > 0.0) == p)
            .count();
        let theirs_correct = theirs
            .iter()
            .zip(&positive)
            .filter(|(&t, &p)| (t > 0.0) == p)
            .count();
        assert!(
            ours_correct + 2 >= theirs_correct,
            "{a} vs {b}: ours {ours_correct}, smartcore {theirs_correct}"
        );
    }
}
