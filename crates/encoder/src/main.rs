//! `encoder`: turns `data/<person>/*` photos into face embeddings (`encodings.msgpack`).

mod reuse;
mod summary;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use cli::{DataDirArg, DetectionArgs, ModelsArg, MultiFaceArg, QuietArg, ThreadsArg};
use facecore::dataset::{self, Photo, Scan};
use facecore::{DecodeOptions, ExamineOptions, FaceAnalyzer, ModelDir};
use facefile::format::encodings::{
    EncodeSettings, Encodings, EncodingsFile, ImageRecord, Outcome, Role,
};
use facefile::{EmbedderKind, Stamped};

/// Find the face in each photo under DATA_DIR/<person>/ and save its embedding.
///
/// Every file in a person's folder is read by its content (a PNG named .jpg is fine). Each photo
/// ends up encoded or rejected with a reason (unreadable, no face, several faces), and the output
/// records which. Re-running reuses the entries of photos that did not change, so adding five photos
/// encodes five photos; after Ctrl-C the photos done so far are kept, and the next run goes on.
///
/// Photos of people who are not members (DATA_DIR/.strangers/<anyone>/, or --strangers DIR) are
/// encoded too, marked as strangers: the trainer learns from them when to say Unknown.
#[derive(Parser, Debug)]
#[command(
    name = "encoder",
    version,
    about,
    long_about,
    after_help = "Examples:\n  encoder -d data/ -f encodings.msgpack\n  encoder -d data/ -f encodings.msgpack --crops data_processed/   # also save aligned faces to look at\n  encoder --embedder dlib -d data/ -f dlib.msgpack                # face_recognition's model"
)]
struct Args {
    #[command(flatten)]
    data: DataDirArg,

    /// Output file (MessagePack). An existing one is read first to reuse unchanged entries.
    #[arg(
        short = 'f',
        long = "output",
        visible_alias = "encodings",
        value_name = "FILE",
        default_value = "encodings.msgpack"
    )]
    output: PathBuf,

    #[command(flatten)]
    detection: DetectionArgs,

    /// dlib only: average the embeddings of this many randomly jittered copies of each face
    /// (1 = off; 10 is slightly more robust and 10× slower).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    jitter: u32,

    #[command(flatten)]
    multi_face: MultiFaceArg,

    /// Do not also embed each face in grey (grey views teach the classifier faces under colour
    /// filters and stage lighting).
    #[arg(long)]
    no_grey_views: bool,

    /// Do not also embed each face as it would look 24 and 40 px tall. Small views let the trainer
    /// build a second classifier for the small faces of group shots (SFace only; dlib gets none).
    #[arg(long)]
    no_small_views: bool,

    /// Photos of people who are not members, one folder per person (DIR/<anyone>/): other groups'
    /// idols, dancers, hosts. [default: DATA_DIR/.strangers, when it exists]
    #[arg(long, value_name = "DIR")]
    strangers: Option<PathBuf>,

    /// Also save each aligned face as a PNG under DIR/<person>/, to check by eye.
    #[arg(long, value_name = "DIR")]
    crops: Option<PathBuf>,

    /// Refuse photos larger than this many megapixels (protects against decompression bombs).
    #[arg(long, value_name = "MP", default_value_t = facecore::image_io::DEFAULT_MAX_MEGAPIXELS)]
    max_megapixels: u64,

    /// Do not rotate photos by their EXIF orientation tag (face_recognition does not rotate).
    #[arg(long)]
    no_exif_orientation: bool,

    /// Ignore the existing output and encode every photo again.
    #[arg(long)]
    full: bool,

    /// Replace --output even if it is not an encodings file.
    #[arg(long)]
    force: bool,

    #[command(flatten)]
    threads: ThreadsArg,

    #[command(flatten)]
    models: ModelsArg,

    #[command(flatten)]
    quiet: QuietArg,
}

fn main() {
    cli::main(run)
}

fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let quiet = args.quiet.quiet;
    let settings = settings(&args)?;
    let data_dir = &args.data.data_dir;
    let scan = dataset::scan(data_dir)?;
    warn_about_scan(&scan, data_dir, quiet);
    if scan.photos.is_empty() {
        bail!(
            "no photos found in {}: put each person's photos in {}/<person>/ (one folder per person)",
            data_dir.display(),
            data_dir.display()
        );
    }
    let strangers_dir = strangers_dir(&args)?;
    let mut photos: Vec<(Role, Photo)> =
        scan.photos.into_iter().map(|p| (Role::Member, p)).collect();
    if let Some(dir) = &strangers_dir {
        let strangers = dataset::scan(dir)?;
        warn_about_scan(&strangers, dir, quiet);
        photos.extend(strangers.photos.into_iter().map(|p| (Role::Stranger, p)));
    }
    reuse::check_output(&args.output, args.force)?;
    // Check the models before any work, so a missing file is the first and only error.
    let models = ModelDir::new(&args.models.models_dir);
    models.verify_for(&settings.analysis)?;
    let previous = if args.full {
        reuse::Previous::default()
    } else {
        reuse::Previous::load(&args.output, &settings, quiet)
    };
    if let Some(crops) = &args.crops {
        if read_as_people(crops, data_dir) {
            bail!(
                "--crops {} is inside the data folder {}: the next run would read the saved faces \
                 as photos (a person named after the folder, or more photos of someone); give a \
                 folder outside it, e.g. --crops faces/",
                crops.display(),
                data_dir.display()
            );
        }
        std::fs::create_dir_all(crops)
            .with_context(|| format!("cannot create crops folder {}", crops.display()))?;
    }

    let (records, reused, interrupted) = encode_all(&args, &photos, &settings, &models, &previous)?;
    let embedder = settings.analysis.embedder.id();
    let file: EncodingsFile = Stamped::new(
        format!("encoder {}", env!("CARGO_PKG_VERSION")),
        Some(embedder),
        Encodings {
            settings,
            data_folders: std::iter::once(data_dir.as_path())
                .chain(strangers_dir.as_deref())
                .map(|dir| {
                    dir.canonicalize()
                        .unwrap_or_else(|_| dir.to_path_buf())
                        .display()
                        .to_string()
                })
                .collect(),
            images: records,
        },
    );
    if interrupted {
        return Err(keep_checkpoint(&args.output, &file));
    }
    // Unchanged photos, models and settings: the file is left as it is (its date too, so `make`
    // does not train and label again for nothing).
    let unchanged = reused.iter().all(|&r| r) && reuse::same_as_written(&args.output, &file);
    if !unchanged {
        file.write(&args.output)?;
    }
    reuse::remove_checkpoint(&args.output);

    let encoded = file.body.embeddings().count();
    if !quiet {
        print!(
            "{}",
            summary::report(
                &summary::Folders {
                    data: data_dir,
                    strangers: strangers_dir.as_deref(),
                    crops: args.crops.as_deref(),
                },
                &file.body.images,
                &reused,
            )
        );
        println!(
            "{encoded} of {} photos encoded with {} in {:.1} s → {}",
            file.body.images.len(),
            settings.analysis.embedder,
            started.elapsed().as_secs_f64(),
            args.output.display()
        );
    }
    if encoded == 0 {
        eprintln!("warning: no face was encoded; check the rejected photos above");
    }
    Ok(())
}

fn settings(args: &Args) -> Result<EncodeSettings> {
    let analysis = args
        .detection
        .settings(EmbedderKind::default(), args.jitter)?;
    Ok(EncodeSettings {
        // The small views come from SFace's aligned chip; dlib has none to give.
        small_views: !args.no_small_views && analysis.embedder == EmbedderKind::Sface,
        analysis,
        multi_face: args.multi_face.policy(),
        max_megapixels: args.max_megapixels,
        apply_exif_orientation: !args.no_exif_orientation,
        grey_views: !args.no_grey_views,
        mirror_views: true,
    })
}

/// Whether `dir` lies inside the data folder where the scan would read its folders as people
/// (not under a hidden folder such as `.strangers` or `.quarantine`).
fn read_as_people(dir: &Path, data_dir: &Path) -> bool {
    let (Ok(dir), Ok(data)) = (std::path::absolute(dir), data_dir.canonicalize()) else {
        return false;
    };
    // The folder may not exist yet (crops): resolve its nearest existing ancestor's links.
    let Some(existing) = dir.ancestors().find(|a| a.exists()) else {
        return false;
    };
    let Ok(base) = existing.canonicalize() else {
        return false;
    };
    let full = base.join(dir.strip_prefix(existing).unwrap_or(Path::new("")));
    full.strip_prefix(&data).is_ok_and(|within| {
        within.components().next().is_some()
            && !within
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
    })
}

/// The strangers' folder: `--strangers`, else `DATA_DIR/.strangers` when it exists.
fn strangers_dir(args: &Args) -> Result<Option<PathBuf>> {
    match &args.strangers {
        Some(dir) => {
            if !dir.is_dir() {
                bail!(
                    "--strangers {}: no such folder; give a folder with one folder of photos per \
                     person who is not a member",
                    dir.display()
                );
            }
            if read_as_people(dir, &args.data.data_dir) {
                bail!(
                    "--strangers {} is inside the data folder {}, where its folders would be read \
                     as members too; move it to {}/{}",
                    dir.display(),
                    args.data.data_dir.display(),
                    args.data.data_dir.display(),
                    dataset::STRANGERS_FOLDER
                );
            }
            Ok(Some(dir.clone()))
        }
        None => {
            let default = args.data.data_dir.join(dataset::STRANGERS_FOLDER);
            Ok(default.is_dir().then_some(default))
        }
    }
}

fn warn_about_scan(scan: &Scan, data_dir: &Path, quiet: bool) {
    for person in &scan.empty_people {
        eprintln!(
            "warning: {}/{person}/ has no photos; it is left out",
            data_dir.display()
        );
    }
    if quiet {
        return;
    }
    for file in &scan.loose_files {
        eprintln!(
            "warning: {} is not in a person's folder; ignored",
            file.display()
        );
    }
    for skipped in &scan.skipped {
        eprintln!("warning: {skipped}");
    }
}

/// After Ctrl-C: the photos finished so far go to the checkpoint the next run resumes from, and
/// the error says so (the output itself is left as it was).
fn keep_checkpoint(output: &Path, finished: &EncodingsFile) -> anyhow::Error {
    let checkpoint = reuse::checkpoint_path(output);
    let count = finished.body.images.len();
    if count == 0 || facefile::fs::is_stream(output) {
        return anyhow::anyhow!("interrupted: {} is unchanged", output.display());
    }
    match finished.write(&checkpoint) {
        Ok(()) => anyhow::anyhow!(
            "interrupted: {} is unchanged; the {count} photos done so far are kept in {} and the \
             next run goes on from there",
            output.display(),
            checkpoint.display()
        ),
        Err(error) => anyhow::anyhow!(
            "interrupted: {} is unchanged, and the photos done so far could not be kept: {error}",
            output.display()
        ),
    }
}

/// Encodes every photo on the worker pool (reusing unchanged ones); records sorted by person and
/// path, with whether each was reused, and whether the run was interrupted (then only the photos
/// finished are there).
fn encode_all(
    args: &Args,
    photos: &[(Role, Photo)],
    settings: &EncodeSettings,
    models: &ModelDir,
    previous: &reuse::Previous,
) -> Result<(Vec<ImageRecord>, Vec<bool>, bool)> {
    let quiet = args.quiet.quiet;
    let bar = cli::progress::bar("encoding", "photos", Some(photos.len() as u64), quiet);
    let options = ExamineOptions {
        decode: DecodeOptions {
            max_megapixels: settings.max_megapixels,
            apply_exif_orientation: settings.apply_exif_orientation,
        },
        policy: settings.multi_face,
        views: facecore::Views {
            grey: settings.grey_views,
            small: settings.small_views,
            mirror: settings.mirror_views,
            chip: args.crops.is_some(),
        },
    };
    let mut results: Vec<Option<(ImageRecord, bool)>> = vec![None; photos.len()];
    facecore::run_pool(
        args.threads.resolve(quiet),
        photos.to_vec(),
        || FaceAnalyzer::load(models, settings.analysis),
        |analyzer, (role, photo)| {
            encode_one(
                analyzer,
                role,
                &photo,
                &options,
                previous,
                args.crops.as_deref(),
            )
        },
        |index, done| {
            bar.set_message(done.0.path.clone());
            bar.inc(1);
            results[index] = Some(done);
        },
    )?;
    bar.finish_and_clear();
    let interrupted = cli::interrupted();
    let mut done: Vec<(ImageRecord, bool)> = if interrupted {
        // Photos skipped after Ctrl-C have no hash: they were never read.
        results
            .into_iter()
            .flatten()
            .filter(|(record, _)| !record.file_sha256.is_empty())
            .collect()
    } else {
        results
            .into_iter()
            .map(|d| d.expect("every photo processed"))
            .collect()
    };
    done.sort_by(|a, b| {
        (a.0.role, &a.0.person, &a.0.path).cmp(&(b.0.role, &b.0.person, &b.0.path))
    });
    let (records, reused) = done.into_iter().unzip();
    Ok((records, reused, interrupted))
}

/// One photo: reused when its bytes are unchanged (and its crop exists), else examined.
fn encode_one(
    analyzer: &mut FaceAnalyzer,
    role: Role,
    photo: &Photo,
    options: &ExamineOptions,
    previous: &reuse::Previous,
    crops: Option<&Path>,
) -> (ImageRecord, bool) {
    let record = |file_sha256: String, file_size: u64, outcome: Outcome| ImageRecord {
        person: photo.person.clone(),
        role,
        path: photo.relative.clone(),
        file_sha256,
        file_size,
        outcome,
    };
    if cli::interrupted() {
        let outcome = Outcome::Rejected(facefile::format::encodings::Rejection::Unreadable {
            message: "interrupted".into(),
        });
        return (record(String::new(), 0, outcome), false);
    }
    let bytes = match std::fs::read(&photo.path) {
        Ok(bytes) => bytes,
        Err(error) => {
            let outcome = Outcome::Rejected(facefile::format::encodings::Rejection::Unreadable {
                message: format!("cannot read file: {error}"),
            });
            return (record(String::new(), 0, outcome), false);
        }
    };
    let sha = facefile::fs::sha256_bytes(&bytes);
    let crop_path = crops.map(|dir| crop_path(dir, role, photo));
    if let Some(outcome) = previous.get(&sha) {
        let crop_missing = matches!(outcome, Outcome::Encoded(_))
            && crop_path.as_ref().is_some_and(|p| !p.exists());
        if !crop_missing {
            return (record(sha, bytes.len() as u64, outcome.clone()), true);
        }
    }
    let examined = facecore::examine(&bytes, Some(analyzer), options);
    if let (Some(path), Ok(facts)) = (&crop_path, &examined.content) {
        let chip = facts
            .faces
            .as_ref()
            .and_then(|f| f.subject.as_ref())
            .and_then(|face| face.chip.as_ref());
        if let Some(chip) = chip {
            if let Err(error) = save_chip(path, chip) {
                eprintln!("warning: cannot save crop {}: {error:#}", path.display());
            }
        }
    }
    let outcome = examined.outcome();
    (record(examined.sha256, examined.size, outcome), false)
}

/// `<crops>/<person>/<rest of the path, / → __>.png` (strangers under `<crops>/.strangers/`).
fn crop_path(crops: &Path, role: Role, photo: &Photo) -> PathBuf {
    let within = photo
        .relative
        .split_once('/')
        .map(|(_, rest)| rest)
        .unwrap_or(&photo.relative);
    let root = match role {
        Role::Member => crops.to_path_buf(),
        Role::Stranger => crops.join(dataset::STRANGERS_FOLDER),
    };
    root.join(&photo.person)
        .join(format!("{}.png", within.replace('/', "__")))
}

fn save_chip(path: &Path, chip: &facecore::RgbImage) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    cli::chart::write_png(path, chip.width(), chip.height(), chip.pixels().to_vec())
}
