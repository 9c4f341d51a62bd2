//! `make bench` (trainer part): fit time and cross-validated accuracy on the real TWICE seed
//! embeddings, beside smartcore's SVC fitting the same 36 one-vs-one pairs.
//!   cargo run --release -p svm-fit --example bench -- [seed_embeddings.csv]

use std::time::Instant;

use facefile::{EmbedderKind, Embedding};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::svm::svc::{SVCParameters, SVC};
use smartcore::svm::Kernels;
use svm_fit::{Dataset, Sample, TrainConfig};

fn load(path: &str) -> Dataset {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let pairs: Vec<(String, Embedding)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut fields = line.split(',');
            let name = fields.next().unwrap().to_string();
            let values: Vec<f32> = fields.map(|v| v.trim().parse().unwrap()).collect();
            (name, Embedding::new(values).expect("finite values"))
        })
        .collect();
    Dataset::new(
        pairs.iter().map(|(name, embedding)| Sample {
            name,
            stranger: false,
            embedding,
            mirror: None,
            extra_views: &[],
        }),
        EmbedderKind::Dlib,
    )
}

fn median(mut seconds: Vec<f64>) -> f64 {
    seconds.sort_by(f64::total_cmp);
    seconds[seconds.len() / 2]
}

fn main() {
    let default = format!(
        "{}/../../../shared/data/seed/seed_embeddings.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let path = std::env::args().nth(1).unwrap_or(default);
    let dataset = load(&path);
    println!(
        "trainer benchmark: {} embeddings of {} people ({path})",
        dataset.len(),
        dataset.classes.len()
    );

    let fixed = TrainConfig {
        c: Some(1.0),
        ..TrainConfig::default()
    };
    // The SVMs and their calibration alone: what scikit-learn's SVC(probability=True) does.
    let plan = svm_fit::train::Plan::Svm { c: 1.0 };
    let fits: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            svm_fit::train::fit_plan(&dataset, &plan, 0);
            start.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "fit, C=1, Platt calibration included: {:.4} s (median of 15; scikit-learn: 0.05 s)",
        median(fits)
    );
    // Plus the decision rule: cross-validated predictions and a model per left-out person.
    let fits: Vec<f64> = (0..3)
        .map(|_| {
            let start = Instant::now();
            svm_fit::fit_model(&dataset, &fixed).unwrap();
            start.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "fit and learn the decision rule, C=1: {:.3} s (median of 3)",
        median(fits)
    );

    let start = Instant::now();
    let searched = svm_fit::fit_model(&dataset, &TrainConfig::default()).unwrap();
    println!(
        "full fit with C chosen by 5-fold CV over {:?}: {:.3} s",
        TrainConfig::default().c_grid,
        start.elapsed().as_secs_f64()
    );
    for (c, accuracy) in &searched.c_search {
        println!("  C={c}: cv accuracy {accuracy:.4}");
    }

    for (label, config) in [
        ("C=1", fixed.clone()),
        ("C searched (nested CV)", TrainConfig::default()),
    ] {
        let start = Instant::now();
        let cv = svm_fit::cross_validate(&dataset, &config).unwrap().unwrap();
        println!(
            "stratified 5-fold CV accuracy, {label}: {:.4} ({:.2} s; scikit-learn C=1: 0.9756)",
            cv.accuracy(),
            start.elapsed().as_secs_f64()
        );
    }

    let model = svm_fit::fit_model(&dataset, &fixed).unwrap().classifier;
    let predictor = classifier::Predictor::new(&model);
    let probe = dataset.embeddings[0].clone();
    let rounds = 20_000;
    let start = Instant::now();
    let mut sink = 0.0;
    for _ in 0..rounds {
        sink += predictor.predict(std::hint::black_box(&probe)).probability;
    }
    let per_face = start.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "predict one face (probabilities + distance gate): {:.1} µs ({sink:.0})",
        per_face * 1e6
    );

    // smartcore's SVC (SMO) on the same 36 pairs, C=1, linear kernel.
    let k = dataset.classes.len();
    let start = Instant::now();
    for i in 0..k {
        for j in (i + 1)..k {
            let (rows, labels): (Vec<Vec<f64>>, Vec<i32>) = dataset
                .embeddings
                .iter()
                .zip(&dataset.labels)
                .filter(|(_, &l)| l as usize == i || l as usize == j)
                .map(|(e, &l)| {
                    (
                        e.values().iter().map(|&v| v as f64).collect(),
                        if l as usize == i { 1 } else { -1 },
                    )
                })
                .unzip();
            let x = DenseMatrix::from_2d_vec(&rows).unwrap();
            let params = SVCParameters::default()
                .with_c(1.0)
                .with_kernel(Kernels::linear());
            SVC::fit(&x, &labels, &params).unwrap();
        }
    }
    println!(
        "smartcore SVC, 36 pairs, C=1, no calibration: {:.3} s",
        start.elapsed().as_secs_f64()
    );
}
