//! `make eval` (second half): per-clip figures from the labels the video labeler wrote for the
//! TWICE development clips (`../shared/data/twice-dev/clips/clips.csv`: file, member, source), for
//! one or more models (one labels folder each).
//!
//!   cargo run --release -p video-labeler --example eval-clips -- CLIPS_CSV NAME=LABELS_DIR…
//!       [--taught Member,Member,…]   (per NAME: NAME:Member,…; people outside it must be Unknown)
//!
//! For a member's clip: the share of frames with a face where she is named ("right") and where
//! someone else is named ("wrong"). A member the model was not taught, and another group's idol
//! (`stranger`), must be named in no frame ("named"). For a group clip: faces drawn, faces named,
//! and frames where one name appears twice.

use std::collections::HashMap;
use std::path::Path;

use facefile::format::labels::{FrameLabels, LabelsFile};

struct Row {
    file: String,
    member: String,
}

/// One model's labels of every clip.
struct Run {
    name: String,
    dir: String,
    /// The members the model knows; `None`: all of them.
    taught: Option<Vec<String>>,
}

#[derive(Default)]
struct Totals {
    member_frames: u64,
    right: u64,
    wrong: u64,
    member_clips: usize,
    member_clips_ok: usize,
    untaught_frames: u64,
    untaught_named: u64,
    stranger_frames: u64,
    stranger_named: u64,
    group_faces: u64,
    group_named: u64,
    group_twice: u64,
}

fn names(frame: &FrameLabels) -> Vec<&str> {
    frame
        .faces
        .iter()
        .filter_map(|f| f.name.as_deref())
        .collect()
}

fn share(n: u64, of: u64) -> f64 {
    100.0 * n as f64 / of.max(1) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: eval-clips CLIPS_CSV NAME=LABELS_DIR… [--taught NAME:Member,…]…");
        std::process::exit(2);
    }
    let csv = std::fs::read_to_string(&args[0]).unwrap_or_else(|e| panic!("{}: {e}", args[0]));
    let rows: Vec<Row> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut fields = line.split(',');
            Row {
                file: fields.next().unwrap().to_string(),
                member: fields.next().unwrap().to_string(),
            }
        })
        .collect();
    let mut runs: Vec<Run> = Vec::new();
    let mut taught: HashMap<String, Vec<String>> = HashMap::new();
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        if arg == "--taught" {
            let spec = rest.next().expect("--taught NAME:Member,…");
            let (name, members) = spec.split_once(':').expect("NAME:Member,…");
            taught.insert(
                name.to_string(),
                members.split(',').map(str::to_string).collect(),
            );
        } else {
            let (name, dir) = arg.split_once('=').expect("NAME=LABELS_DIR");
            runs.push(Run {
                name: name.to_string(),
                dir: dir.to_string(),
                taught: None,
            });
        }
    }
    for run in &mut runs {
        run.taught = taught.remove(&run.name);
    }
    let mut totals: Vec<Totals> = runs.iter().map(|_| Totals::default()).collect();
    print!("{:<22} {:<10} {:>6}", "clip", "who", "faces");
    for run in &runs {
        print!("  {:>17}", run.name);
    }
    println!();
    for row in &rows {
        let mut line = String::new();
        let mut frames_with_face = 0;
        for (run, total) in runs.iter().zip(totals.iter_mut()) {
            let path = Path::new(&run.dir).join(format!("{}.msgpack", row.file));
            let labels = match LabelsFile::read(&path) {
                Ok(labels) => labels.body,
                Err(error) => {
                    line.push_str(&format!("  {:>17}", "no labels"));
                    eprintln!("{}: {error}", path.display());
                    continue;
                }
            };
            let with_face: Vec<&FrameLabels> = labels
                .frames
                .iter()
                .filter(|f| !f.faces.is_empty())
                .collect();
            frames_with_face = with_face.len() as u64;
            let count = |keep: &dyn Fn(&FrameLabels) -> bool| {
                with_face.iter().filter(|f| keep(f)).count() as u64
            };
            let knows = |member: &str| {
                run.taught
                    .as_ref()
                    .is_none_or(|t| t.iter().any(|m| m == member))
            };
            let cell = match row.member.as_str() {
                "group" => {
                    let faces: u64 = labels.frames.iter().map(|f| f.faces.len() as u64).sum();
                    let named: u64 = labels.frames.iter().map(|f| names(f).len() as u64).sum();
                    let twice = count(&|f| {
                        let mut n = names(f);
                        let before = n.len();
                        n.sort_unstable();
                        n.dedup();
                        n.len() != before
                    });
                    total.group_faces += faces;
                    total.group_named += named;
                    total.group_twice += twice;
                    format!("{named}/{faces} named, {twice}×2")
                }
                who if who == "stranger" || !knows(who) => {
                    let named = count(&|f| !names(f).is_empty());
                    if who == "stranger" {
                        total.stranger_frames += frames_with_face;
                        total.stranger_named += named;
                    } else {
                        total.untaught_frames += frames_with_face;
                        total.untaught_named += named;
                    }
                    format!(
                        "{}named {:.0}%",
                        if share(named, frames_with_face) <= 2.0 {
                            ""
                        } else {
                            "FAIL "
                        },
                        share(named, frames_with_face)
                    )
                }
                member => {
                    let right = count(&|f| names(f).contains(&member));
                    let wrong = count(&|f| names(f).iter().any(|n| *n != member));
                    total.member_frames += frames_with_face;
                    total.right += right;
                    total.wrong += wrong;
                    total.member_clips += 1;
                    let ok = share(right, frames_with_face) >= 90.0
                        && share(wrong, frames_with_face) <= 2.0;
                    total.member_clips_ok += ok as usize;
                    format!(
                        "{}{:.0}% / {:.0}%",
                        if ok { "" } else { "FAIL " },
                        share(right, frames_with_face),
                        share(wrong, frames_with_face)
                    )
                }
            };
            line.push_str(&format!("  {cell:>17}"));
        }
        println!(
            "{:<22} {:<10} {frames_with_face:>6}{line}",
            row.file, row.member
        );
    }
    println!("\n(member clips: right / wrong share of the frames with a face; untaught members and strangers: share of their frames naming a member)");
    for (run, t) in runs.iter().zip(&totals) {
        let mut summary = format!(
            "{}: taught members' clips {} of {} ok, all their face frames {:.1}% right, {:.1}% wrong",
            run.name,
            t.member_clips_ok,
            t.member_clips,
            share(t.right, t.member_frames),
            share(t.wrong, t.member_frames)
        );
        if t.untaught_frames > 0 {
            summary.push_str(&format!(
                "; untaught members named in {:.1}% of their frames",
                share(t.untaught_named, t.untaught_frames)
            ));
        }
        summary.push_str(&format!(
            "; strangers named in {:.1}% ({} of {} frames); group clips: {} of {} faces named ({:.0}%), a name twice in {} frames",
            share(t.stranger_named, t.stranger_frames),
            t.stranger_named,
            t.stranger_frames,
            t.group_named,
            t.group_faces,
            share(t.group_named, t.group_faces),
            t.group_twice
        ));
        println!("{summary}");
    }
}
