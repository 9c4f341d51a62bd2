//! `cleaner`: makes `data/<person>/` folders trustworthy before encoding.

mod checks;
mod inspect;
mod quarantine;
mod repair;
mod report;

use std::collections::HashSet;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Parser;
use cli::{DataDirArg, DetectionArgs, ModelsArg, MultiFaceArg, QuietArg, ThreadsArg};
use facecore::{DecodeOptions, ExamineOptions, FaceAnalyzer, ModelDir};
use facefile::format::clean_report::Action;
use facefile::{EmbedderKind, MultiFacePolicy};

use checks::FindingKind;
use inspect::Inspection;
use report::{FileEntry, Summary};

/// Clean the photo folders data/<person>/ before encoding.
///
/// Files that cannot be used (corrupt, truncated, HTML pages saved as images, photos with no face,
/// exact duplicates in a folder) are moved to DATA/.quarantine/<person>/ with the reason — nothing
/// is deleted unless you ask with --delete. PNG, WebP, GIF (first frame), CMYK and misnamed files
/// become plain JPEGs. Duplicates across people, near duplicates, group photos and photos that look
/// like another person are flagged on a review page (DATA/review.html) for you to check. Faces are
/// found with the encoder's settings (--embedder, --detector, --upsample, --multi-face), so a photo
/// is kept exactly when the encoder can use it.
#[derive(Parser, Debug)]
#[command(
    name = "cleaner",
    version,
    about,
    long_about,
    after_help = "Examples:\n  cleaner -d data/ --dry-run   # see what would happen\n  cleaner -d data/"
)]
struct Args {
    #[command(flatten)]
    data: DataDirArg,

    /// Change nothing; print and report what would be done.
    #[arg(long)]
    dry_run: bool,

    /// Delete problem files (and the originals of converted files) instead of quarantining them.
    #[arg(long)]
    delete: bool,

    /// Skip the face checks (no face, several faces, wrong person): faster, no models needed.
    #[arg(long)]
    no_face_check: bool,

    #[command(flatten)]
    detection: DetectionArgs,

    #[command(flatten)]
    multi_face: MultiFaceArg,

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
    let data_dir = &args.data.data_dir;
    let scan = facecore::dataset::scan(data_dir)?;
    for skipped in &scan.skipped {
        eprintln!("warning: {skipped}");
    }
    if scan.photos.is_empty() {
        bail!("no files found in {}/<person>/ folders", data_dir.display());
    }
    let face_checks = if args.no_face_check {
        None
    } else {
        Some(args.detection.settings(EmbedderKind::default(), 1)?)
    };
    let models = ModelDir::new(&args.models.models_dir);
    if let Some(settings) = &face_checks {
        models.verify_for(settings)?;
    }
    let policy = args.multi_face.policy();
    let options = ExamineOptions {
        decode: DecodeOptions::default(),
        policy,
        views: facecore::Views::NONE,
    };
    let files = inspect_all(&args, scan.photos, face_checks, &models, &options)?;
    let inspect_seconds = started.elapsed().as_secs_f64();

    let mut entries = decide(&files, policy);
    let mut failures = Vec::new();
    if !args.dry_run {
        let quarantine = quarantine::Quarantine::new(data_dir, args.delete);
        for (entry, file) in entries.iter_mut().zip(&files) {
            if cli::interrupted() {
                break;
            }
            // One file that cannot be changed (a full disk, a read-only file) stops nothing else:
            // it stays where it was, and the run ends with an error that names it.
            if let Err(error) = quarantine.apply(entry, file) {
                eprintln!("error: {error:#}");
                entry.flag(format!("could not be cleaned: {error:#}"));
                failures.push(file.candidate.path.clone());
            }
        }
    }
    let summary = Summary::new(
        data_dir,
        args.dry_run,
        args.delete,
        face_checks,
        entries,
        inspect_seconds,
        started.elapsed().as_secs_f64(),
    );
    if !args.dry_run {
        summary.write(data_dir)?;
    }
    if !quiet {
        print!("{}", summary.render());
        if !args.dry_run {
            println!(
                "report → {0}/clean-report.msgpack, {0}/clean-report.json; review page → {0}/review.html",
                data_dir.display()
            );
        } else {
            println!("dry run: nothing was changed");
        }
    }
    if cli::interrupted() {
        bail!("interrupted: the files not reached yet are unchanged");
    }
    if !failures.is_empty() {
        bail!(
            "{} file(s) could not be cleaned and were left as they were (see above), e.g. {}",
            failures.len(),
            failures[0].display()
        );
    }
    Ok(())
}

fn inspect_all(
    args: &Args,
    photos: Vec<facecore::dataset::Photo>,
    face_checks: Option<facefile::AnalysisSettings>,
    models: &ModelDir,
    options: &ExamineOptions,
) -> Result<Vec<Inspection>> {
    let quiet = args.quiet.quiet;
    let bar = cli::progress::bar("checking", "files", Some(photos.len() as u64), quiet);
    let mut inspected: Vec<Option<Inspection>> = vec![None; photos.len()];
    facecore::run_pool(
        args.threads.resolve(quiet),
        photos,
        || -> Result<Option<FaceAnalyzer>, facecore::ModelError> {
            face_checks
                .map(|settings| FaceAnalyzer::load(models, settings))
                .transpose()
        },
        |analyzer, candidate| inspect::inspect(candidate, analyzer.as_mut(), options),
        |index, inspection| {
            bar.inc(1);
            inspected[index] = Some(inspection);
        },
    )?;
    bar.finish_and_clear();
    if cli::interrupted() {
        bail!("interrupted: nothing was changed");
    }
    Ok(inspected
        .into_iter()
        .map(|i| i.expect("every file inspected"))
        .collect())
}

/// Each file's decision: quarantine, flag, or keep (and repair).
fn decide(files: &[Inspection], policy: MultiFacePolicy) -> Vec<FileEntry> {
    let mut findings = checks::duplicates(files);
    findings.extend(checks::wrong_people(files));
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
    let mut reserved = HashSet::new();
    for (entry, file) in entries.iter_mut().zip(files) {
        if let Some(reason) = file.broken() {
            entry.quarantine(reason.to_string());
            continue;
        }
        let facts = file.facts().expect("not broken");
        if let Some(faces) = &facts.faces {
            if let Some(error) = &faces.error {
                entry.flag(format!("the face check failed: {error}"));
            }
            match (faces.count, faces.subject.is_some()) {
                (0, _) if faces.error.is_none() => entry.quarantine("no face found".into()),
                (0 | 1, _) => {}
                (n, true) => entry.flag(format!(
                    "{n} faces; the encoder uses the {} one",
                    match policy {
                        MultiFacePolicy::Largest => "largest",
                        _ => "clearly dominant",
                    }
                )),
                (n, false) => entry.flag(format!(
                    "{n} faces and none clearly the subject: the encoder rejects it (see --multi-face)"
                )),
            }
        }
        if entry.action() == &Action::Keep {
            entry.repair = repair::plan(&file.candidate.path, facts, &mut reserved);
        }
    }
    entries
}
