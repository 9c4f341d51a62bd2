//! `cleaner`: makes `data/<person>/` folders trustworthy before encoding.

mod checks;
mod inspect;
mod repair;
mod report;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use facecore::{AnalysisSettings, FaceAnalyzer, ModelDir, ModelKind};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use checks::FindingKind;
use inspect::{Content, Inspection};
use repair::Repair;
use report::{Action, CleanReport, FileEntry};

/// Clean the photo folders data/<person>/ before encoding.
///
/// Files that cannot be used (corrupt, truncated, HTML pages saved as images, photos with no face,
/// exact duplicates in a folder) are moved to DATA/.quarantine/<person>/ with the reason — nothing
/// is deleted unless you ask with --delete. PNG, WebP, GIF (first frame), CMYK and misnamed files
/// become plain JPEGs. Duplicates across people, near duplicates, group photos and photos that look
/// like another person are flagged on a review page (DATA/review.html) for you to check.
#[derive(Parser, Debug)]
#[command(
    name = "cleaner",
    version,
    about,
    long_about,
    after_help = "Examples:\n  cleaner -d data/ --dry-run   # see what would happen\n  cleaner -d data/"
)]
struct Args {
    /// Folder with one sub-folder of photos per person.
    #[arg(
        short = 'd',
        long = "data-dir",
        value_name = "DIR",
        default_value = "data"
    )]
    data_dir: PathBuf,

    /// Change nothing; print and report what would be done.
    #[arg(long)]
    dry_run: bool,

    /// Delete problem files (and the originals of converted files) instead of quarantining them.
    #[arg(long)]
    delete: bool,

    /// Skip the face checks (no face, several faces, wrong person): faster, no models needed.
    #[arg(long)]
    no_face_check: bool,

    /// Folder with dlib's model files [default: $FACE_MODELS_DIR, else models/].
    #[arg(long, value_name = "DIR")]
    models_dir: Option<PathBuf>,

    /// Worker threads [default: one per core].
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,

    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
}

fn main() {
    if let Err(error) = run(Args::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let scan = facecore::dataset::scan(&args.data_dir)?;
    let candidates = scan.photos;
    if candidates.is_empty() {
        anyhow::bail!(
            "no files found in {}/<person>/ folders",
            args.data_dir.display()
        );
    }
    let settings = AnalysisSettings::default();
    let models = ModelDir::locate(args.models_dir.as_deref());
    if !args.no_face_check {
        models.verified(ModelKind::Landmarks5)?;
        models.verified(ModelKind::FaceEmbedding)?;
    }
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(candidates.len() as u64), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} checking [{bar:30}] {pos}/{len} files  {per_sec}  ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let total = candidates.len();
    let mut inspected: Vec<Option<Inspection>> = (0..total).map(|_| None).collect();
    let face_check = !args.no_face_check;
    facecore::run_pool(
        args.threads.unwrap_or_else(facecore::pool::default_threads),
        candidates,
        || -> Result<Option<FaceAnalyzer>, facecore::ModelError> {
            face_check
                .then(|| FaceAnalyzer::load(&models, &settings))
                .transpose()
        },
        |analyzer, candidate| inspect::inspect(candidate, analyzer.as_ref(), &settings),
        |index, inspection| {
            bar.inc(1);
            inspected[index] = Some(inspection);
        },
    )?;
    bar.finish_and_clear();
    let files: Vec<Inspection> = inspected
        .into_iter()
        .map(|i| i.expect("every file inspected"))
        .collect();
    let inspect_seconds = started.elapsed().as_secs_f64();

    let mut findings = checks::duplicates(&files);
    findings.extend(checks::wrong_people(&files));
    let mut entries: Vec<FileEntry> = files.iter().map(FileEntry::new).collect();
    for finding in findings {
        let entry = &mut entries[finding.index];
        match finding.kind {
            FindingKind::DuplicateInFolder { of } => entry.quarantine(format!("exact duplicate of {of}")),
            FindingKind::DuplicateAcrossPeople { of } => {
                entry.flag(format!("the same photo is also filed as {of}: which person is it?"))
            }
            FindingKind::NearDuplicate { of, bits } => {
                entry.flag(format!("nearly the same picture as {of} ({bits} of 64 hash bits differ)"))
            }
            FindingKind::LooksLikeAnotherPerson { person, own, other } => entry.flag(format!(
                "looks more like {person} (distance {other:.2}) than like the rest of this folder ({own:.2})"
            )),
        }
    }
    for (entry, file) in entries.iter_mut().zip(&files) {
        match &file.content {
            Content::Broken(reason) => entry.quarantine(reason.clone()),
            Content::Image(facts) => {
                if let Some(faces) = &facts.faces {
                    match (faces.count, &faces.subject) {
                        (0, _) => entry.quarantine("no face found".into()),
                        (1, _) => {}
                        (n, Some(_)) => entry.flag(format!(
                            "{n} faces; the largest is clearly the subject and is used"
                        )),
                        (n, None) => entry.flag(format!(
                            "{n} faces and none clearly the subject: the encoder skips it"
                        )),
                    }
                }
                if entry.action == Action::Keep {
                    entry.repair = repair::plan(&file.candidate.path, facts);
                }
            }
        }
    }

    let quarantine_root = args.data_dir.join(".quarantine");
    if !args.dry_run {
        for (entry, file) in entries.iter_mut().zip(&files) {
            apply(entry, file, &quarantine_root, args.delete)
                .with_context(|| format!("while cleaning {}", file.candidate.path.display()))?;
        }
    }
    let report = CleanReport::new(
        &args.data_dir,
        args.dry_run,
        args.delete,
        face_check,
        entries,
        inspect_seconds,
        started.elapsed().as_secs_f64(),
    );
    if !args.dry_run {
        report.write(&args.data_dir)?;
    }
    if !args.quiet {
        print!("{}", report.render());
        if !args.dry_run {
            println!(
                "report → {0}/clean-report.msgpack, {0}/clean-report.json; review page → {0}/review.html",
                args.data_dir.display()
            );
        } else {
            println!("dry run: nothing was changed");
        }
    }
    Ok(())
}

/// Carries out one file's decision: quarantine (or delete), convert, or rename.
fn apply(
    entry: &mut FileEntry,
    file: &Inspection,
    quarantine_root: &Path,
    delete: bool,
) -> Result<()> {
    let path = &file.candidate.path;
    match entry.action.clone() {
        Action::Quarantine { reason } => {
            entry.final_path = Some(set_aside(
                path,
                &file.candidate.person,
                quarantine_root,
                delete,
                &reason,
            )?);
        }
        Action::Keep => match entry.repair.clone() {
            Repair::None => {}
            Repair::Rename { to } => {
                std::fs::rename(path, &to)
                    .with_context(|| format!("cannot rename to {}", to.display()))?;
                entry.final_path = Some(Some(to));
            }
            Repair::Convert { to, why } => {
                let format = match &file.content {
                    Content::Image(facts) => facts.format,
                    Content::Broken(_) => unreachable!("only images are converted"),
                };
                let pixels = repair::pixels(path, format)?;
                let jpeg = facecore::encode_jpeg(&pixels, 95)?;
                // The original goes aside first: the JPEG may take its very name (a PNG named .jpg).
                let reason = format!("original of {} ({why})", to.display());
                set_aside(
                    path,
                    &file.candidate.person,
                    quarantine_root,
                    delete,
                    &reason,
                )?;
                facecore::format::write_atomic(&to, &jpeg)?;
                entry.final_path = Some(Some(to));
            }
        },
    }
    Ok(())
}

/// Moves a file to `<quarantine>/<person>/` (never overwriting) and logs why; or deletes it.
/// Returns where it went (`None` when deleted).
fn set_aside(
    path: &Path,
    person: &str,
    quarantine_root: &Path,
    delete: bool,
    reason: &str,
) -> Result<Option<PathBuf>> {
    if delete {
        std::fs::remove_file(path).with_context(|| format!("cannot delete {}", path.display()))?;
        return Ok(None);
    }
    let folder = quarantine_root.join(person);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let name = path
        .file_name()
        .context("no file name")?
        .to_string_lossy()
        .into_owned();
    let mut target = folder.join(&name);
    let mut n = 2;
    while target.exists() {
        target = folder.join(format!("{n}-{name}"));
        n += 1;
    }
    std::fs::rename(path, &target)
        .with_context(|| format!("cannot move to {}", target.display()))?;
    let log = quarantine_root.join("log.tsv");
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let line = format!(
        "{seconds}\t{}\t{}\t{}\n",
        person,
        target
            .strip_prefix(quarantine_root)
            .unwrap_or(&target)
            .display(),
        reason.replace(['\t', '\n'], " ")
    );
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .with_context(|| format!("cannot write {}", log.display()))?;
    Ok(Some(target))
}
