//! `svm-trainer`: learns to tell the people apart from their face embeddings, and when to say
//! Unknown.

mod input;
mod plot;
mod report;
mod small_faces;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use cli::args::EmbedderArg;
use cli::QuietArg;
use facefile::format::model::{Classifier, ClassifierFile, Method, SmallFaces};
use facefile::{EmbedderKind, Stamped};
use svm_fit::{Dataset, MethodChoice, Sample, TrainConfig};

use report::{CSearchRow, Report};

/// Train a calibrated classifier on face embeddings, learn when to say Unknown, and report how well
/// it tells the people apart.
///
/// The model is a one-vs-one linear SVM with probabilities calibrated as libsvm does (Platt scaling
/// on internal cross-validation, pairwise coupling); C is chosen by cross-validation unless given.
/// With fewer than 5 photos of some person it falls back to nearest-neighbour matching and says so.
///
/// Photos of people who are not members (the encoder's strangers, from data/.strangers/, or
/// --strangers) are learned as one more class, "someone else", and the decision rule is set on
/// them: the lowest probability that names at most --stranger-share of their photos, each scored
/// by a model that never saw that person. Without strangers, the rule (probability and distance)
/// is learned from the members' photos alone, and the report says so.
#[derive(Parser, Debug)]
#[command(
    name = "svm-trainer",
    version,
    about,
    long_about,
    after_help = "Examples:\n  svm-trainer -i encodings.msgpack -o model.msgpack\n  svm-trainer -i encodings.msgpack -o model.msgpack --test held-out.msgpack\n  svm-trainer -i seed_embeddings.csv -o model.msgpack --report report.json"
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

    /// More photos of people who are not members: every face in this encodings file (e.g.
    /// `encoder -d other-idols/ -f strangers.msgpack`) counts as a stranger.
    #[arg(long, value_name = "FILE")]
    strangers: Option<PathBuf>,

    /// With strangers: the share of their photos the rule may name (it names as many faces as it
    /// can while keeping to it).
    #[arg(long, value_name = "P", default_value_t = svm_fit::rule::strangers::DEFAULT_STRANGER_SHARE)]
    stranger_share: f64,

    /// Without strangers: the share of names that must be right (on held-out photos and
    /// simulated strangers); the rule names as many faces as it can while keeping it.
    #[arg(long, value_name = "P", default_value_t = svm_fit::train::DEFAULT_PRECISION_TARGET)]
    precision: f64,

    /// Replace the learned probability threshold with this one (0–1) in the model.
    #[arg(short = 't', long, value_name = "P")]
    threshold: Option<f64>,

    /// Also score the model on held-out photos (encodings or CSV; people the model does not know
    /// count as strangers): accuracy, coverage, precision, strangers named.
    #[arg(long, value_name = "FILE")]
    test: Option<PathBuf>,

    /// The embedding model a CSV's vectors come from (MessagePack files say it themselves).
    #[arg(long, value_enum, value_name = "MODEL", default_value_t = EmbedderArg::Dlib)]
    csv_embedder: EmbedderArg,

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

    /// Replace --output even if it is not a model file.
    #[arg(long)]
    force: bool,

    /// With small views in the encodings (the encoder's default): faces shorter than this (pixels)
    /// are named by a second classifier that also learned each photo as a 24- and a 40-px face
    /// shows it; 0: one classifier for every face.
    #[arg(long, value_name = "PX", default_value_t = small_faces::DEFAULT_SMALL_FACE_HEIGHT)]
    small_face_height: f32,

    /// Skip the cross-validated accuracy report (faster on big datasets; the rule is still learned).
    #[arg(long)]
    no_cv: bool,

    #[command(flatten)]
    quiet: QuietArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MethodArg {
    Auto,
    Svm,
    Nn,
}

fn main() {
    cli::main(run)
}

fn run(args: Args) -> Result<()> {
    check_args(&args)?;
    let quiet = args.quiet.quiet;
    let csv_embedder = EmbedderKind::from(args.csv_embedder);
    let input = input::read(&args.input, csv_embedder)?;
    if input.embedder_assumed && !quiet {
        eprintln!(
            "note: {} is CSV, which records no model; assuming {} embeddings (--csv-embedder)",
            args.input.display(),
            input.embedder
        );
    }
    // Another file of embeddings read beside the input must come from the same model.
    let read_beside = |path: &Path| -> Result<input::Input> {
        let other = input::read(path, csv_embedder)?;
        anyhow::ensure!(
            other.embedder == input.embedder,
            "{} holds {} embeddings but {} holds {}; encode both with the same --embedder",
            path.display(),
            other.embedder,
            args.input.display(),
            input.embedder
        );
        Ok(other)
    };
    let test = args.test.as_deref().map(read_beside).transpose()?;
    let strangers = args.strangers.as_deref().map(read_beside).transpose()?;
    let mut photos = input.photos;
    let mut data_folders = input.data_folders;
    if let Some(more) = strangers {
        data_folders.extend(more.data_folders);
        photos.extend(more.photos.into_iter().map(|p| input::Photo {
            stranger: true,
            ..p
        }));
    }
    let photos = strangers_if_enough(photos, quiet);
    let test = test.map(|test| without_training_photos(test, &photos, args.test.as_deref(), quiet));
    let test = test.transpose()?;
    let dataset = Dataset::new(
        photos.iter().map(|p| Sample {
            name: &p.name,
            stranger: p.stranger,
            embedding: &p.embedding,
            mirror: p.mirror.as_ref(),
            extra_views: &p.extra_views,
        }),
        input.embedder,
    );
    let config = TrainConfig {
        c: args.c,
        folds: args.folds as usize,
        seed: args.seed,
        method: match args.method {
            MethodArg::Auto => MethodChoice::Auto,
            MethodArg::Svm => MethodChoice::Svm,
            MethodArg::Nn => MethodChoice::NearestNeighbour,
        },
        precision_target: args.precision,
        stranger_share: args.stranger_share,
        ..TrainConfig::default()
    };

    let started = Instant::now();
    let fitted = svm_fit::fit_model(&dataset, &config)
        .with_context(|| format!("cannot train on {}", args.input.display()))?;
    let mut model = fitted.classifier.clone();
    model.summary.data_folders = data_folders;
    if let Some(threshold) = args.threshold {
        model.rule.min_probability = threshold;
    }
    let small = small_faces::fit(&photos, input.embedder, &config, args.small_face_height)?;
    // Both classifiers count in the time to fit.
    let fit_seconds = started.elapsed().as_secs_f64();
    if let Some((fitted, _)) = &small {
        let mut small_model = fitted.classifier.clone();
        small_model.summary.data_folders = model.summary.data_folders.clone();
        if let Some(threshold) = args.threshold {
            small_model.rule.min_probability = threshold;
        }
        model.small_faces = Some(SmallFaces {
            below_height: args.small_face_height,
            model: Box::new(small_model),
        });
    }

    let cv_started = Instant::now();
    let cv = if args.no_cv {
        None
    } else {
        svm_fit::cross_validate(&dataset, &config)?
    };
    model.summary.cv_accuracy = cv.as_ref().map(|cv| cv.accuracy());
    let report = build_report(
        &args,
        &dataset,
        &photos,
        &fitted,
        &model,
        cv.as_ref(),
        cv_started,
        fit_seconds,
        test.as_ref(),
    );
    let report = Report {
        small_faces: small.as_ref().map(|(fitted, dataset)| {
            report::small_faces_report(
                args.small_face_height,
                fitted,
                dataset,
                args.precision,
                args.threshold,
            )
        }),
        ..report
    };

    // The plot first: if it cannot be drawn, nothing is written and the error says why. With
    // nothing cross-validated there is no matrix to draw, which is said (not an error: the model
    // is still good to use).
    if let Some(path) = &args.plot {
        if report.cross_validation.is_some() {
            plot::confusion_png(&report, path)?;
        } else if !quiet {
            eprintln!(
                "note: {} is not drawn: some person has a single photo, so nothing was \
                 cross-validated",
                path.display()
            );
        }
    }
    // Everyone keeps the colour the model being replaced gave her; newcomers get free ones.
    let previous: std::collections::HashMap<String, [u8; 3]> = ClassifierFile::read(&args.output)
        .map(|old| {
            let colours = old.body.person_colours();
            old.body.classes.into_iter().zip(colours).collect()
        })
        .unwrap_or_default();
    model.colours = facefile::colours::assign(&model.classes, &previous);
    if let Some(small) = &mut model.small_faces {
        small.model.colours = model.colours.clone();
    }
    let file: ClassifierFile = Stamped::new(
        format!("svm-trainer {}", env!("CARGO_PKG_VERSION")),
        Some(input.embedder.id()),
        model,
    );
    file.write(&args.output)?;
    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report).context("encoding the report")?;
        facefile::fs::write_atomic(path, &json)?;
    }
    if !quiet {
        print!("{}", report::render(&report));
        println!("\nfit in {fit_seconds:.3} s → {}", args.output.display());
        if let Some(path) = &args.report {
            println!("report → {}", path.display());
        }
        if let Some(path) = args
            .plot
            .as_ref()
            .filter(|_| report.cross_validation.is_some())
        {
            println!("confusion matrix → {}", path.display());
        }
    }
    Ok(())
}

fn check_args(args: &Args) -> Result<()> {
    cli::usage_ensure(
        args.small_face_height.is_finite() && args.small_face_height >= 0.0,
        || {
            format!(
                "--small-face-height is a face height in pixels (e.g. 64), or 0 for one classifier \
                 for every face; got {}",
                args.small_face_height
            )
        },
    )?;
    if let Some(threshold) = args.threshold {
        cli::usage_ensure((0.0..=1.0).contains(&threshold), || {
            format!("--threshold must be between 0 and 1, got {threshold}")
        })?;
    }
    cli::usage_ensure(args.precision > 0.0 && args.precision <= 1.0, || {
        format!(
            "--precision is the share of names that must be right: above 0 and at most 1 (0.98 \
             is 98 %), got {}",
            args.precision
        )
    })?;
    cli::usage_ensure((0.0..1.0).contains(&args.stranger_share), || {
        format!(
            "--stranger-share is the share of strangers the rule may name: at least 0 and below 1 \
             (0.01 is 1 %), got {}",
            args.stranger_share
        )
    })?;
    if let Some(c) = args.c {
        cli::usage_ensure(c > 0.0 && c.is_finite(), || {
            format!("--c must be a positive number (the SVM's regularisation, e.g. 1), got {c}")
        })?;
    }
    let mut inputs = vec![("--input", args.input.as_path())];
    if let Some(test) = &args.test {
        inputs.push(("--test", test.as_path()));
    }
    if let Some(strangers) = &args.strangers {
        inputs.push(("--strangers", strangers.as_path()));
    }
    let mut outputs = vec![("--output", args.output.as_path())];
    for (flag, path) in [("--report", &args.report), ("--plot", &args.plot)] {
        if let Some(path) = path {
            outputs.push((flag, path.as_path()));
        }
    }
    facefile::fs::check_distinct(&inputs, &outputs)?;
    facefile::format::check_replaceable::<Classifier>(&args.output, args.force)
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(())
}

/// The strangers are kept when there are enough of them to set the rule on; otherwise they are
/// left out, and the user is told why.
fn strangers_if_enough(photos: Vec<input::Photo>, quiet: bool) -> Vec<input::Photo> {
    use svm_fit::rule::strangers::{MIN_STRANGER_PEOPLE, MIN_STRANGER_PHOTOS};
    let strangers: Vec<&input::Photo> = photos.iter().filter(|p| p.stranger).collect();
    if strangers.is_empty() {
        return photos;
    }
    let mut people: Vec<&str> = strangers.iter().map(|p| p.name.as_str()).collect();
    people.sort_unstable();
    people.dedup();
    if people.len() >= MIN_STRANGER_PEOPLE && strangers.len() >= MIN_STRANGER_PHOTOS {
        return photos;
    }
    if !quiet {
        eprintln!(
            "note: {} photos of {} strangers are too few to set the rule on (at least \
             {MIN_STRANGER_PHOTOS} photos of {MIN_STRANGER_PEOPLE} people are needed); they are left \
             out and the rule is learned from the members' photos alone",
            strangers.len(),
            people.len()
        );
    }
    photos.into_iter().filter(|p| !p.stranger).collect()
}

/// `--test` photos that are also training photos (the same embedding) would measure the model on
/// what it learned: they are left out, and said so; a test set made only of them is refused.
fn without_training_photos(
    mut test: input::Input,
    training: &[input::Photo],
    path: Option<&std::path::Path>,
    quiet: bool,
) -> Result<input::Input> {
    let path = path.expect("a test file").display();
    let before = test.photos.len();
    test.photos
        .retain(|t| !training.iter().any(|p| p.embedding == t.embedding));
    let overlap = before - test.photos.len();
    anyhow::ensure!(
        !test.photos.is_empty(),
        "every photo of {path} is also a training photo: a test on them would only measure what the \
         model learned; give photos it was not trained on"
    );
    if overlap > 0 && !quiet {
        eprintln!(
            "note: {overlap} of the {before} photos of {path} are also training photos; they are left \
             out of the test"
        );
    }
    Ok(test)
}

#[allow(clippy::too_many_arguments)]
fn build_report(
    args: &Args,
    dataset: &Dataset,
    photos: &[input::Photo],
    fitted: &svm_fit::FittedModel,
    model: &Classifier,
    cv: Option<&svm_fit::CrossValidation>,
    cv_started: Instant,
    fit_seconds: f64,
    test: Option<&input::Input>,
) -> Report {
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
    let operating = match &fitted.evidence {
        svm_fit::Evidence::Members(data) => Some(data),
        _ => None,
    };
    let choice = operating.map(|data| data.choose(args.precision));
    Report {
        embedder: dataset.embedder.to_string(),
        classes: dataset.classes.clone(),
        photos: dataset.photo_count(),
        views: dataset.len(),
        photos_per_class: dataset.counts(),
        method,
        method_reason,
        c,
        c_search: fitted
            .c_search
            .iter()
            .map(|&(c, cv_accuracy)| CSearchRow { c, cv_accuracy })
            .collect(),
        rule: report::rule_report(model, choice.as_ref(), args.threshold),
        curve: report::curve(operating),
        fit_seconds,
        cross_validation: cv.map(|cv| {
            report::cv_report(
                cv,
                &dataset.classes,
                photos,
                args.seed,
                cv_started.elapsed().as_secs_f64(),
            )
        }),
        test: test.map(|test| report::test_report(model, dataset.embedder, &test.photos)),
        small_faces: None,
    }
}
