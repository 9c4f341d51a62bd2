//! `encoder`: turns `data/<person>/*` photos into face embeddings (`encodings.msgpack`).

mod summary;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use facecore::format::EncodeSettings;
use facecore::models::sha256_bytes;
use facecore::{
    pick_subject, AnalysisSettings, DecodeOptions, DetectionSettings, DetectorKind, EncodedFace,
    EncodingsFile, FaceAnalyzer, ImageRecord, ModelDir, ModelFingerprint, ModelKind,
    MultiFacePolicy, Outcome, Rejection, Upsample,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use facecore::dataset::{self as scan, Photo};

/// Find the face in each photo under DATA_DIR/<person>/ and save its 128-d embedding.
///
/// Every file in a person's folder is read by its content (a PNG named .jpg is fine). Each photo
/// ends up encoded or rejected with a reason (unreadable, no face, several faces), and the output
/// records which. Re-running reuses the entries of photos that did not change, so adding five photos
/// encodes five photos.
#[derive(Parser, Debug)]
#[command(
    name = "encoder",
    version,
    about,
    long_about,
    after_help = "Example:\n  encoder -d data/ -f encodings.msgpack\n  encoder -d data/ -f encodings.msgpack --crops data_processed/   # also save aligned faces to look at"
)]
struct Args {
    /// Folder with one sub-folder of photos per person; the folder name is the label.
    #[arg(
        short = 'd',
        long = "data-dir",
        value_name = "DIR",
        default_value = "data"
    )]
    data_dir: PathBuf,

    /// Output file (MessagePack). An existing one is read first to reuse unchanged entries.
    #[arg(
        short = 'f',
        long = "output",
        visible_alias = "encodings",
        value_name = "FILE",
        default_value = "encodings.msgpack"
    )]
    output: PathBuf,

    /// Folder with dlib's model files [default: $FACE_MODELS_DIR, else models/].
    #[arg(long, value_name = "DIR")]
    models_dir: Option<PathBuf>,

    /// Face detector: hog (fast, frontal faces) or cnn (finds turned faces too, much slower on a CPU).
    #[arg(long, value_enum, default_value_t = DetectorArg::Hog)]
    detector: DetectorArg,

    /// Upsampling before detection: auto (fast on big photos, upsamples small ones or when nothing
    /// is found), or 0, 1, 2 (1 is face_recognition's default; each step finds faces half as big
    /// and takes about 4× longer).
    #[arg(long, value_name = "auto|0|1|2", default_value = "auto", value_parser = parse_upsample)]
    upsample: Upsample,

    /// Average the embeddings of this many randomly jittered copies of each face (1 = off;
    /// 10 is slightly more robust and 10× slower).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    jitter: u32,

    /// With several faces in a photo: dominant keeps the largest if it is at least twice the area
    /// of the next, else rejects; largest always keeps it; reject always rejects.
    #[arg(long, value_enum, default_value_t = MultiFaceArg::Dominant)]
    multi_face: MultiFaceArg,

    /// Also save each aligned 150×150 face as a PNG under DIR/<person>/, to check by eye.
    #[arg(long, value_name = "DIR")]
    crops: Option<PathBuf>,

    /// Worker threads, each with its own models [default: one per core].
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,

    /// Refuse photos larger than this many megapixels (protects against decompression bombs).
    #[arg(long, value_name = "MP", default_value_t = facecore::image_io::DEFAULT_MAX_MEGAPIXELS)]
    max_megapixels: u64,

    /// Do not rotate photos by their EXIF orientation tag (face_recognition does not rotate).
    #[arg(long)]
    no_exif_orientation: bool,

    /// Ignore the existing output and encode every photo again.
    #[arg(long)]
    full: bool,

    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DetectorArg {
    Hog,
    Cnn,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MultiFaceArg {
    Dominant,
    Largest,
    Reject,
}

fn parse_upsample(value: &str) -> Result<Upsample, String> {
    match value {
        "auto" => Ok(Upsample::Auto),
        _ => match value.parse::<u32>() {
            Ok(times) if times <= 3 => Ok(Upsample::Times(times)),
            _ => Err(format!("expected auto, 0, 1, 2 or 3, got {value:?}")),
        },
    }
}

fn main() {
    if let Err(error) = run(Args::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

/// What a worker returns for one photo.
struct Done {
    record: ImageRecord,
    reused: bool,
}

fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let settings = EncodeSettings {
        analysis: AnalysisSettings {
            detection: DetectionSettings {
                detector: match args.detector {
                    DetectorArg::Hog => DetectorKind::Hog,
                    DetectorArg::Cnn => DetectorKind::Cnn,
                },
                upsample: args.upsample,
            },
            jitter: args.jitter,
        },
        multi_face: match args.multi_face {
            MultiFaceArg::Dominant => MultiFacePolicy::Dominant,
            MultiFaceArg::Largest => MultiFacePolicy::Largest,
            MultiFaceArg::Reject => MultiFacePolicy::Reject,
        },
        max_megapixels: args.max_megapixels,
        apply_exif_orientation: !args.no_exif_orientation,
    };

    let scan = scan::scan(&args.data_dir)?;
    if scan.photos.is_empty() {
        bail!(
            "no photos found in {}: put each person's photos in {}/<person>/ (one folder per person)",
            args.data_dir.display(),
            args.data_dir.display()
        );
    }
    for person in &scan.empty_people {
        eprintln!(
            "warning: {}/{person}/ has no photos; it is left out",
            args.data_dir.display()
        );
    }
    for file in &scan.loose_files {
        eprintln!(
            "warning: {} is not in a person's folder; ignored",
            file.display()
        );
    }

    // Check the models before any work, so a missing file is the first and only error.
    let models = ModelDir::locate(args.models_dir.as_deref());
    models.verified(ModelKind::Landmarks5)?;
    models.verified(ModelKind::FaceEmbedding)?;
    if settings.analysis.detection.detector == DetectorKind::Cnn {
        models.verified(ModelKind::CnnDetector)?;
    }

    let previous = if args.full {
        HashMap::new()
    } else {
        reusable_outcomes(&args.output, &settings, args.quiet)
    };
    if let Some(crops) = &args.crops {
        std::fs::create_dir_all(crops)
            .with_context(|| format!("cannot create crops folder {}", crops.display()))?;
    }

    let total = scan.photos.len();
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} encoding [{bar:30}] {pos}/{len} photos  {per_sec}  ETA {eta}  {wide_msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );

    let decode = DecodeOptions {
        max_megapixels: settings.max_megapixels,
        apply_exif_orientation: settings.apply_exif_orientation,
    };
    let threads = args.threads.unwrap_or_else(facecore::pool::default_threads);
    let mut results: Vec<Option<Done>> = (0..total).map(|_| None).collect();
    facecore::run_pool(
        threads,
        scan.photos.clone(),
        || FaceAnalyzer::load(&models, &settings.analysis),
        |analyzer, photo| {
            process(
                analyzer,
                &photo,
                &settings,
                &decode,
                &previous,
                args.crops.as_deref(),
            )
        },
        |index, done| {
            bar.set_message(done.record.path.clone());
            bar.inc(1);
            results[index] = Some(done);
        },
    )?;
    bar.finish_and_clear();

    let mut done: Vec<Done> = results
        .into_iter()
        .map(|d| d.expect("every photo processed"))
        .collect();
    done.sort_by(|a, b| {
        (&a.record.person, &a.record.path).cmp(&(&b.record.person, &b.record.path))
    });
    let reused: Vec<bool> = done.iter().map(|d| d.reused).collect();
    let records: Vec<ImageRecord> = done.into_iter().map(|d| d.record).collect();
    let encoded = records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Encoded(_)))
        .count();
    let producer = format!("encoder {}", env!("CARGO_PKG_VERSION"));
    EncodingsFile::new(producer, settings, records.clone()).write(&args.output)?;

    if !args.quiet {
        for record in &records {
            if let Outcome::Rejected(rejection) = &record.outcome {
                println!(
                    "rejected {}: {rejection}",
                    args.data_dir.join(&record.path).display()
                );
            }
        }
        println!();
        print!("{}", summary::render(&records, &reused));
        let fresh = reused.iter().filter(|r| !**r).count();
        let seconds = started.elapsed().as_secs_f64();
        let faces: u32 = records.iter().map(|r| faces_found(&r.outcome)).sum();
        println!(
            "\n{encoded} of {total} photos encoded, {faces} faces detected ({fresh} processed, {} reused) in {seconds:.1} s → {}",
            total - fresh,
            args.output.display()
        );
        if let Some(crops) = &args.crops {
            println!("aligned faces saved under {}", crops.display());
        }
    }
    if encoded == 0 {
        eprintln!("warning: no face was encoded; check the rejected photos above");
    }
    Ok(())
}

fn faces_found(outcome: &Outcome) -> u32 {
    match outcome {
        Outcome::Encoded(face) => face.faces_found,
        Outcome::Rejected(Rejection::SeveralFaces { count }) => *count,
        Outcome::Rejected(_) => 0,
    }
}

/// Outcomes of the previous run by file hash, when that run used the same models and settings.
fn reusable_outcomes(
    output: &Path,
    settings: &EncodeSettings,
    quiet: bool,
) -> HashMap<String, Outcome> {
    if !output.exists() {
        return HashMap::new();
    }
    let previous = match EncodingsFile::read(output) {
        Ok(previous) => previous,
        Err(error) => {
            eprintln!(
                "warning: not reusing {}: {error}; every photo is encoded again",
                output.display()
            );
            return HashMap::new();
        }
    };
    if previous.models != ModelFingerprint::current() || previous.settings != *settings {
        if !quiet {
            eprintln!("note: models or settings changed since {} was written; every photo is encoded again", output.display());
        }
        return HashMap::new();
    }
    previous
        .images
        .into_iter()
        .map(|record| (record.file_sha256, record.outcome))
        .collect()
}

fn process(
    analyzer: &mut FaceAnalyzer,
    photo: &Photo,
    settings: &EncodeSettings,
    decode: &DecodeOptions,
    previous: &HashMap<String, Outcome>,
    crops: Option<&Path>,
) -> Done {
    let record = |file_sha256: String, file_size: u64, outcome: Outcome| ImageRecord {
        person: photo.person.clone(),
        path: photo.relative.clone(),
        file_sha256,
        file_size,
        outcome,
    };
    let bytes = match std::fs::read(&photo.path) {
        Ok(bytes) => bytes,
        Err(error) => {
            let outcome = Outcome::Rejected(Rejection::Unreadable {
                message: format!("cannot read file: {error}"),
            });
            return Done {
                record: record(String::new(), 0, outcome),
                reused: false,
            };
        }
    };
    let sha = sha256_bytes(&bytes);
    let size = bytes.len() as u64;
    let crop_path = crops.map(|dir| crop_path(dir, photo));
    if let Some(outcome) = previous.get(&sha) {
        let crop_missing = matches!(outcome, Outcome::Encoded(_))
            && crop_path.as_ref().is_some_and(|p| !p.exists());
        if !crop_missing {
            return Done {
                record: record(sha, size, outcome.clone()),
                reused: true,
            };
        }
    }
    let decoded = match facecore::decode_bytes(&bytes, decode) {
        Ok(decoded) => decoded,
        Err(error) => {
            let outcome = Outcome::Rejected(Rejection::Unreadable {
                message: error.to_string(),
            });
            return Done {
                record: record(sha, size, outcome),
                reused: false,
            };
        }
    };
    let faces = analyzer.analyze(&decoded.image, &settings.analysis, crop_path.is_some());
    let boxes: Vec<_> = faces.iter().map(|(face, _)| face.bbox).collect();
    let outcome = match pick_subject(&boxes, settings.multi_face) {
        None if faces.is_empty() => Outcome::Rejected(Rejection::NoFace),
        None => Outcome::Rejected(Rejection::SeveralFaces {
            count: faces.len() as u32,
        }),
        Some(index) => {
            let (face, chip) = &faces[index];
            if let (Some(path), Some(chip)) = (&crop_path, chip) {
                if let Err(error) = save_chip(path, chip) {
                    eprintln!("warning: cannot save crop {}: {error:#}", path.display());
                }
            }
            Outcome::Encoded(EncodedFace {
                bbox: face.bbox,
                detection_score: face.detection_score,
                landmarks: face.landmarks,
                embedding: face.embedding,
                faces_found: faces.len() as u32,
                image_width: decoded.image.width,
                image_height: decoded.image.height,
            })
        }
    };
    Done {
        record: record(sha, size, outcome),
        reused: false,
    }
}

/// `<crops>/<person>/<rest of the path, / → __>.png`.
fn crop_path(crops: &Path, photo: &Photo) -> PathBuf {
    let within = photo
        .relative
        .split_once('/')
        .map(|(_, rest)| rest)
        .unwrap_or(&photo.relative);
    crops
        .join(&photo.person)
        .join(format!("{}.png", within.replace('/', "__")))
}

fn save_chip(path: &Path, chip: &[u8]) -> Result<()> {
    let size = facecore::embed::CHIP_SIZE;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    facecore::format::write_png(path, &facecore::RgbImage::new(size, size, chip.to_vec()))?;
    Ok(())
}
