//! `svm-trainer`: learns to tell the people apart from their face embeddings.

mod input;
mod plot;
mod report;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use facecore::classify::Method;
use facecore::format::write_atomic;
use svm_fit::{Dataset, MethodChoice, TrainConfig};

use report::{CSearchRow, Report};

/// Train a calibrated classifier on face embeddings and report how well it tells the people apart.
///
/// The model is a one-vs-one linear SVM with probabilities calibrated as libsvm does (Platt scaling
/// on internal cross-validation, pairwise coupling). C is chosen by cross-validation unless given.
/// With fewer than 5 photos of some person it falls back to nearest-neighbour matching and says so.
#[derive(Parser, Debug)]
#[command(
    name = "svm-trainer",
    version,
    about,
    long_about,
    after_help = "Examples:\n  svm-trainer -i encodings.msgpack -o model.msgpack\n  svm-trainer -i seed_embeddings.csv -o model.msgpack --report report.json"
)]
struct Args {
    /// Embeddings: the encoder's encodings.msgpack, or a CSV with rows name,f1,…,f128.
    #[arg(
        short = 'i',
        long = "input",
        value_name = "FILE",
        default_value = "encodings.msgpack"
    )]
    input: PathBuf,

    /// Where to write the model (MessagePack).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "model.msgpack"
    )]
    output: PathBuf,

    /// Fix the SVM's C instead of choosing it by cross-validation among 0.1, 1, 10, 100, 1000.
    #[arg(long = "c", value_name = "C")]
    c: Option<f64>,

    /// auto: SVM when every person has at least 5 photos, else nearest neighbour.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    method: MethodArg,

    /// Probability under which a face is labelled Unknown (the default the video labeler uses).
    #[arg(short = 't', long, value_name = "P", default_value_t = 0.7)]
    threshold: f64,

    /// Number of cross-validation folds.
    #[arg(long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=20))]
    folds: u64,

    /// Seed for the shuffles (results are identical run to run for a given seed).
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Also write the report as JSON.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,

    /// Also draw the confusion matrix (who gets taken for whom) as a PNG.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,

    /// Skip the cross-validated report (faster on big datasets).
    #[arg(long)]
    no_cv: bool,

    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MethodArg {
    Auto,
    Svm,
    Nn,
}

fn main() {
    if let Err(error) = run(Args::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.threshold),
        "--threshold must be between 0 and 1, got {}",
        args.threshold
    );
    if let Some(c) = args.c {
        anyhow::ensure!(
            c > 0.0 && c.is_finite(),
            "--c must be a positive number, got {c}"
        );
    }
    let input = input::read(&args.input)?;
    if input.models_assumed && !args.quiet {
        eprintln!("note: {} is CSV, which records no model; assuming dlib's face_recognition_resnet_model_v1 embeddings", args.input.display());
    }
    let dataset = Dataset::from_pairs(input.pairs.iter().map(|(n, e)| (n.as_str(), *e)));
    let config = TrainConfig {
        c: args.c,
        folds: args.folds as usize,
        seed: args.seed,
        method: match args.method {
            MethodArg::Auto => MethodChoice::Auto,
            MethodArg::Svm => MethodChoice::Svm,
            MethodArg::Nn => MethodChoice::NearestNeighbour,
        },
        threshold: args.threshold,
        ..TrainConfig::default()
    };

    let started = Instant::now();
    let fitted = svm_fit::fit_model(&dataset, &config, input.models.clone())
        .with_context(|| format!("cannot train on {}", args.input.display()))?;
    let fit_seconds = started.elapsed().as_secs_f64();

    let cv_started = Instant::now();
    let cv = if args.no_cv {
        None
    } else {
        svm_fit::cross_validate(&dataset, &config)?
    };
    let cv_report = cv.as_ref().map(|cv| {
        report::cv_report(
            cv,
            &dataset.classes,
            args.seed,
            cv_started.elapsed().as_secs_f64(),
        )
    });

    let mut model = fitted.file;
    model.producer = format!("svm-trainer {}", env!("CARGO_PKG_VERSION"));
    model.summary.cv_accuracy = cv.as_ref().map(|cv| cv.accuracy());
    let (method, method_reason, c) = match &model.method {
        Method::Svm(svm) => (
            "linear SVM, one-vs-one, Platt-calibrated".to_string(),
            None,
            Some(svm.c),
        ),
        Method::NearestNeighbour(nn) => (
            "nearest neighbour (few-shot)".to_string(),
            Some(nn.reason.clone()),
            None,
        ),
    };
    let report = Report {
        classes: dataset.classes.clone(),
        samples: dataset.len(),
        samples_per_class: dataset.counts(),
        method,
        method_reason,
        c,
        c_search: fitted
            .c_search
            .iter()
            .map(|&(c, cv_accuracy)| CSearchRow { c, cv_accuracy })
            .collect(),
        unknown_distance: model.unknown_distance,
        threshold: args.threshold,
        fit_seconds,
        cross_validation: cv_report,
    };
    // The plot first: if it cannot be drawn, nothing is written and the error says why.
    if let Some(path) = &args.plot {
        plot::confusion_png(&report, path)?;
    }
    model.write(&args.output)?;
    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report).context("encoding the report")?;
        write_atomic(path, &json)?;
    }
    if !args.quiet {
        print!("{}", report::render(&report));
        println!("\nfit in {fit_seconds:.3} s → {}", args.output.display());
        if let Some(path) = &args.report {
            println!("report → {}", path.display());
        }
        if let Some(path) = &args.plot {
            println!("confusion matrix → {}", path.display());
        }
    }
    Ok(())
}
