//! `teach`: "track 14 is Jihyo" → the faces `video-labeler --save-tracks` kept of track 14 become
//! photos in `data/Jihyo/`, their origin recorded in her manifest, so the next `make all` learns
//! her as she looks in this video and labels it again.

mod corrections;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;
use cli::{DataDirArg, QuietArg};
use facefile::format::manifest::{Manifest, ManifestEntry, ManifestFile, MANIFEST_FILE};
use facefile::format::tracks::{SavedTrack, TracksFile, TRACKS_FILE};
use facefile::layout::STRANGERS_FOLDER;
use facefile::Stamped;

use corrections::{Correction, Teaching};

/// Correct the labelled video once, and the model learns from it.
///
/// `video-labeler --save-tracks DIR` keeps each track's best faces (`make all` does, in
/// out/<group>/tracks). Say who a track really is (14=Jihyo), or accept what the labeler showed or
/// guessed (--accept 3,7: "Unknown (Jihyo?)" counts as Jihyo), or say it is nobody the model
/// should know (9=stranger: its faces go to DATA_DIR/.strangers/ and make the bar for a name
/// stricter). The faces are copied into DATA_DIR/<person>/, named by their content like downloads,
/// with the video, track and times in the person's manifest.msgpack. Then run `make all` again.
/// Without corrections, the tracks are listed.
#[derive(Parser, Debug)]
#[command(
    name = "teach",
    version,
    about,
    long_about,
    after_help = "Examples:\n  teach --tracks out/TWICE/tracks                       # list the tracks and what each was shown as\n  teach --tracks out/TWICE/tracks -d data/TWICE 14=Jihyo 3,5-7=Momo\n  teach --tracks out/TWICE/tracks -d data/TWICE --accept 2,9   # the names shown (or guessed) were right\n  teach --tracks out/TWICE/tracks -d data/TWICE 11=stranger      # nobody the model should name"
)]
struct Args {
    /// The folder `video-labeler --save-tracks` filled.
    #[arg(long, value_name = "DIR")]
    tracks: PathBuf,

    #[command(flatten)]
    data: DataDirArg,

    /// TRACKS=PERSON: the tracks (14, or 3,5-7) are PERSON; PERSON `stranger` for someone the
    /// model should not name.
    #[arg(value_name = "TRACKS=PERSON")]
    corrections: Vec<Correction>,

    /// Tracks whose shown name, or best guess when shown Unknown, was right (3,5-7).
    #[arg(long, value_name = "TRACKS")]
    accept: Option<corrections::TrackList>,

    /// Allow a person who has no folder in DATA_DIR yet (refused otherwise: a typo would make a
    /// new person).
    #[arg(long)]
    new_person: bool,

    /// Say what would be copied, copy nothing.
    #[arg(long)]
    dry_run: bool,

    #[command(flatten)]
    quiet: QuietArg,
}

fn main() {
    cli::main(run)
}

fn run(args: Args) -> Result<()> {
    let index = args.tracks.join(TRACKS_FILE);
    if !index.is_file() {
        bail!(
            "{} has no {TRACKS_FILE}: it is not a folder `video-labeler --save-tracks` filled (or \
             that run did not finish); label the video with --save-tracks {} first",
            args.tracks.display(),
            args.tracks.display()
        );
    }
    let saved = TracksFile::read(&index)?.body;
    let teachings = corrections::resolve(&args.corrections, args.accept.as_ref(), &saved)?;
    if teachings.is_empty() {
        print!("{}", corrections::table(&saved));
        return Ok(());
    }
    let data = &args.data.data_dir;
    if !data.is_dir() {
        bail!(
            "{}: no such data folder; give the folder of person folders with -d",
            data.display()
        );
    }
    for teaching in &teachings {
        if let Some(person) = &teaching.person {
            check_person(data, person, args.new_person)?;
        }
    }
    let mut total = 0;
    for teaching in &teachings {
        let folder = target_folder(data, &saved.video, teaching);
        let added = teach(
            &args.tracks,
            &saved.video_full_path,
            teaching,
            &folder,
            args.dry_run,
        )?;
        total += added;
        if !args.quiet.quiet {
            let what = if args.dry_run { "would copy" } else { "copied" };
            println!(
                "track {} ({}): {what} {added} of {} faces → {}",
                teaching.track.id,
                shown(teaching.track),
                teaching.track.faces.len(),
                folder.display()
            );
        }
    }
    if !args.quiet.quiet && !args.dry_run {
        if total > 0 {
            println!(
                "{total} new photos; run `make all` (or encoder, svm-trainer and video-labeler) \
                 to learn them and label the video again"
            );
        } else {
            println!("nothing new: those faces were taught before");
        }
    }
    Ok(())
}

/// What a track was shown as: "Jihyo 83%", "Unknown (Jihyo? 41%)", "Unknown".
fn shown(track: &SavedTrack) -> String {
    match (&track.name, track.candidates.first()) {
        (Some(name), _) => format!("shown as {name} {:.0}%", track.probability * 100.0),
        (None, Some((guess, p))) => format!("shown as Unknown ({guess}? {:.0}%)", p * 100.0),
        (None, None) => "shown as Unknown".into(),
    }
}

/// A person named in a correction must have a folder (or `--new-person`): "Jhyo" is a typo, not
/// a tenth member.
fn check_person(data: &Path, person: &str, new_person: bool) -> Result<()> {
    if person.is_empty()
        || person.starts_with('.')
        || person.contains(['/', '\\', '\0'])
        || person == ".."
    {
        bail!("{person:?} is not a person's folder name");
    }
    if !new_person && !data.join(person).is_dir() {
        let mut known: Vec<String> = std::fs::read_dir(data)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        known.sort();
        bail!(
            "{} has no folder {person}/ (the people there: {}); check the spelling, or add \
             --new-person to start one",
            data.display(),
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        );
    }
    Ok(())
}

/// `DATA/<person>/`, or for a stranger `DATA/.strangers/<video> track <id>/` (one stranger per
/// track: the trainer counts strangers by folder).
fn target_folder(data: &Path, video: &str, teaching: &Teaching) -> PathBuf {
    match &teaching.person {
        Some(person) => data.join(person),
        None => {
            let stem = Path::new(video)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "video".into());
            data.join(STRANGERS_FOLDER)
                .join(format!("{stem} track {}", teaching.track.id))
        }
    }
}

/// Copies a track's faces into `folder` (content-named; faces already there are skipped),
/// recording each in the folder's manifest before it is put in place; how many were new.
fn teach(
    tracks_dir: &Path,
    video: &str,
    teaching: &Teaching,
    folder: &Path,
    dry_run: bool,
) -> Result<usize> {
    let track = teaching.track;
    let mut new_files: Vec<(String, Vec<u8>)> = Vec::new();
    for face in &track.faces {
        let path = tracks_dir.join(face);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read {}: the tracks folder is incomplete; label the video again with \
                 --save-tracks",
                path.display()
            )
        })?;
        let sha = facefile::fs::sha256_bytes(&bytes);
        let name = format!("{}.jpg", &sha[..16]);
        if !folder.join(&name).exists() && !new_files.iter().any(|(n, _)| *n == name) {
            new_files.push((name, bytes));
        }
    }
    if dry_run || new_files.is_empty() {
        return Ok(new_files.len());
    }
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let manifest_path = folder.join(MANIFEST_FILE);
    let mut manifest: ManifestFile = if manifest_path.exists() {
        ManifestFile::read(&manifest_path)?
    } else {
        let person = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Stamped::new(producer(), None, Manifest::new(&person, ""))
    };
    let shown = shown(track);
    for (name, bytes) in &new_files {
        manifest.body.entries.retain(|e| e.file != *name);
        manifest.body.entries.push(ManifestEntry {
            file: name.clone(),
            // A media fragment: the video and the stretch the track was on screen.
            url: format!("{video}#t={:.2},{:.2}", track.start, track.end),
            source: "video".into(),
            page: None,
            licence: None,
            author: None,
            title: Some(format!(
                "track {} of {video}, {shown}, taught as {}",
                track.id,
                teaching.person.as_deref().unwrap_or("a stranger")
            )),
            sha256: facefile::fs::sha256_bytes(bytes),
            size: bytes.len() as u64,
        });
    }
    // The entries first: a photo is never in the folder without its origin.
    manifest.write(&manifest_path)?;
    for (name, bytes) in &new_files {
        facefile::fs::write_atomic(&folder.join(name), bytes)?;
    }
    Ok(new_files.len())
}

fn producer() -> String {
    format!("teach {}", env!("CARGO_PKG_VERSION"))
}
