//! The files beside the video: labels (MessagePack and JSON) and the screen-time report, checked
//! before any work (no output may be an input or another output; folders must exist) and written
//! only once the video is complete.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use classifier::Rules;
use facefile::format::labels::{
    Candidate, Labels, LabelsFile, SmallFaceThresholds, TrackSummary, VideoInfo,
};
use facefile::format::model::{Classifier, ClassifierFile};
use facefile::Stamped;

use crate::analyse::Analysis;
use crate::decide::TrackDecision;
use crate::page::{self, Page};
use crate::render::Rendered;
use crate::video::VideoSource;
use crate::Args;

/// Refuses outputs inside a folder the model's photos were read from (a labelled photo there would
/// be learned as a photo of someone), unless `--force`.
pub fn check_not_training_data(args: &Args, model: &Classifier) -> Result<()> {
    if args.force {
        return Ok(());
    }
    let folders: Vec<PathBuf> = model
        .summary
        .data_folders
        .iter()
        .map(PathBuf::from)
        .collect();
    let outputs = args
        .output
        .iter()
        .chain(&args.labels)
        .chain(&args.labels_json)
        .chain(&args.report_dir)
        .chain(&args.save_tracks);
    for output in outputs {
        let Some(full) = full_path(output) else {
            continue;
        };
        if let Some(folder) = folders.iter().find(|f| full.starts_with(f)) {
            bail!(
                "{} is inside {}, a folder the model's photos were read from: what is written there \
                 would be learned as photos; write it elsewhere, or --force",
                output.display(),
                folder.display()
            );
        }
    }
    Ok(())
}

/// `path` made absolute, with the links of its nearest existing ancestor resolved.
fn full_path(path: &std::path::Path) -> Option<PathBuf> {
    let path = std::path::absolute(path).ok()?;
    let existing = path.ancestors().find(|a| a.exists())?;
    let rest = path.strip_prefix(existing).ok()?;
    Some(existing.canonicalize().ok()?.join(rest))
}

/// Refuses to replace a file that is not a video this labeler wrote, unless `force`.
pub fn check_video_output(output: &std::path::Path, force: bool) -> Result<()> {
    if force || !output.is_file() {
        return Ok(());
    }
    let ours = media::probe(output).ok().and_then(|m| m.comment)
        == Some(facefile::format::labels::LABELLED_VIDEO_COMMENT.to_string());
    if !ours {
        bail!(
            "{} exists and is not a video this labeler wrote (an original, a photo?): it would be \
             replaced; give another -o, or --force to replace it",
            output.display()
        );
    }
    Ok(())
}

/// The files `--report-dir` holds.
pub const REPORT_FILES: [&str; 4] = [
    "index.html",
    "screen-time.csv",
    "screen-time.png",
    "appearances.csv",
];

/// Each stretch a person is on screen, one row per named track in time order:
/// `person,start,end,track,probability` (seconds from the video's start).
pub fn appearances_csv(frames: &[facefile::format::labels::FrameLabels]) -> String {
    use std::collections::BTreeMap;
    // Track → (person, first time, last time, probability).
    let mut spans: BTreeMap<u32, (String, f64, f64, f64)> = BTreeMap::new();
    let start = frames.first().map_or(0.0, |f| f.time);
    for (i, frame) in frames.iter().enumerate() {
        let end = frames.get(i + 1).map_or(frame.time, |next| next.time);
        for face in &frame.faces {
            let Some(name) = &face.name else { continue };
            let span = spans.entry(face.track).or_insert_with(|| {
                (
                    name.clone(),
                    frame.time - start,
                    end - start,
                    face.probability,
                )
            });
            span.2 = end - start;
        }
    }
    let mut rows: Vec<(u32, (String, f64, f64, f64))> = spans.into_iter().collect();
    rows.sort_by(|a, b| a.1 .1.total_cmp(&b.1 .1).then(a.0.cmp(&b.0)));
    let mut out = String::from("person,start,end,track,probability\n");
    for (track, (person, first, last, probability)) in rows {
        out.push_str(&format!(
            "{},{first:.3},{last:.3},{track},{probability:.4}\n",
            facefile::csv::text(&person)
        ));
    }
    out
}

/// Refuses outputs that are inputs (or each other), and outputs in folders that do not exist.
pub fn check_paths(args: &Args) -> Result<()> {
    let inputs = [
        ("--input", args.input.as_path()),
        ("--model", args.model.as_path()),
    ];
    let mut outputs: Vec<(&str, &std::path::Path)> = args
        .output
        .iter()
        .map(|o| ("--output", o.as_path()))
        .collect();
    if let Some(path) = &args.labels {
        outputs.push(("--labels", path.as_path()));
    }
    if let Some(path) = &args.labels_json {
        outputs.push(("--labels-json", path.as_path()));
    }
    let report_files: Vec<PathBuf> = args
        .report_dir
        .iter()
        .flat_map(|dir| REPORT_FILES.iter().map(move |name| dir.join(name)))
        .collect();
    for file in &report_files {
        outputs.push(("--report-dir", file.as_path()));
    }
    facefile::fs::check_distinct(&inputs, &outputs)?;
    if let Some(path) = &args.labels {
        facefile::format::check_replaceable::<Labels>(path, args.force)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    for path in [&args.labels, &args.labels_json].into_iter().flatten() {
        let parent = facefile::fs::parent_or_dot(path);
        if !parent.is_dir() {
            bail!(
                "cannot write {}: the folder {} does not exist; create it first",
                path.display(),
                parent.display()
            );
        }
    }
    if let Some(dir) = &args.report_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(())
}

/// Everything a run found, for the files beside the video.
pub struct Results<'a> {
    /// The labelled video.
    pub output: &'a std::path::Path,
    pub source: &'a VideoSource,
    pub model: &'a ClassifierFile,
    pub rules: &'a Rules<'a>,
    pub analysis: &'a Analysis,
    pub decisions: &'a [TrackDecision],
    pub rendered: &'a Rendered,
}

/// Writes the labels and the report (each atomically).
pub fn write_all(args: &Args, results: &Results) -> Result<()> {
    let Results {
        model,
        rules,
        analysis,
        decisions,
        rendered,
        ..
    } = results;
    if args.labels.is_some() || args.labels_json.is_some() {
        let labels = labels(args, results);
        if let Some(path) = &args.labels {
            labels.write(path)?;
        }
        if let Some(path) = &args.labels_json {
            facefile::fs::write_atomic(path, &serde_json::to_vec(&labels)?)?;
        }
    }
    if let Some(dir) = &args.report_dir {
        facefile::fs::write_atomic(
            &dir.join("screen-time.csv"),
            rendered.screen.csv().as_bytes(),
        )?;
        let colours = crate::draw::Colours::of_model(&model.body);
        rendered
            .screen
            .chart_png(&dir.join("screen-time.png"), &colours)?;
        facefile::fs::write_atomic(
            &dir.join("appearances.csv"),
            appearances_csv(&rendered.frames).as_bytes(),
        )?;
        let page = Page {
            title: args
                .input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "video".into()),
            classes: &model.body.classes,
            frames: &rendered.frames,
            cuts: &analysis.cuts,
            screen: &rendered.screen,
            decisions: &analysis
                .tracks
                .iter()
                .map(|t| t.id)
                .zip(decisions.iter().cloned())
                .collect::<Vec<_>>(),
            video: page::relative_path(dir, args.page_video.as_deref().unwrap_or(results.output)),
            faces: rendered.faces.clone(),
            min_probability: rules.main().min_probability,
            max_distance: rules.main().max_distance,
            small_faces: rules
                .small()
                .map(|(height, thresholds)| (height, thresholds.min_probability)),
            colours: &colours,
        };
        facefile::fs::write_atomic(&dir.join("index.html"), page.html().as_bytes())?;
    }
    Ok(())
}

fn labels(args: &Args, results: &Results) -> LabelsFile {
    let Results {
        source,
        model,
        rules,
        analysis,
        decisions,
        rendered,
        ..
    } = results;
    let classes = &model.body.classes;
    let tracks = analysis
        .tracks
        .iter()
        .zip(decisions.iter())
        .map(|(track, decision)| {
            let face_height = track.median_face_height();
            TrackSummary {
                id: track.id,
                first_frame: track.first_frame(),
                last_frame: track.last_frame(),
                name: decision.class.map(|c| classes[c].clone()),
                probability: decision.probability,
                distance: decision.distance,
                faces: track.evidence.faces(),
                candidates: decision
                    .candidates
                    .iter()
                    .map(|&(c, probability)| Candidate {
                        name: classes[c].clone(),
                        probability,
                    })
                    .collect(),
                unknown_reason: decision.reason.clone(),
                lost_to_another: decision.lost_to_another.map(|c| classes[c].clone()),
                face_height,
                small_face: rules.is_small(face_height),
            }
        })
        .collect();
    Stamped::new(
        format!("video-labeler {}", env!("CARGO_PKG_VERSION")),
        model.embedder.clone(),
        Labels {
            video: VideoInfo {
                path: args.input.display().to_string(),
                width: source.width,
                height: source.height,
                fps: source.fps,
                frames: analysis.frames,
                rotation: source.rotation,
            },
            classes: classes.clone(),
            min_probability: rules.main().min_probability,
            max_distance: rules.main().max_distance,
            small_faces: rules
                .small()
                .map(|(below_height, thresholds)| SmallFaceThresholds {
                    below_height,
                    min_probability: thresholds.min_probability,
                    max_distance: thresholds.max_distance,
                }),
            frames: rendered.frames.clone(),
            tracks,
            cuts: analysis.cuts.clone(),
        },
    )
}
