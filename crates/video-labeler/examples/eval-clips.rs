//! `make eval` (second half): per-clip figures from the labels the video labeler wrote for the
//! TWICE development clips (`../shared/data/twice-dev/clips/clips.csv`: file, member, source).
//!
//!   cargo run --release -p video-labeler --example eval-clips -- CLIPS_CSV LABELS_DIR
//!
//! For a member's clip: frames with a face, frames where she is named, frames where another member
//! is named. For another group's idol (`stranger`): frames where any member is named. For a group
//! clip: frames with faces, faces found, and frames where one name appears twice.

use std::collections::HashMap;
use std::path::Path;

use facefile::format::labels::LabelsFile;

struct Row {
    file: String,
    member: String,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: eval-clips CLIPS_CSV LABELS_DIR");
        std::process::exit(2);
    }
    let csv = std::fs::read_to_string(&args[1]).unwrap_or_else(|e| panic!("{}: {e}", args[1]));
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
    let labels_dir = Path::new(&args[2]);
    let (mut member_pass, mut members, mut stranger_pass, mut strangers) = (0, 0, 0, 0);
    let mut group_faces = Vec::new();
    let mut totals: HashMap<&str, (u64, u64, u64)> = HashMap::new();
    println!(
        "{:<22} {:<10} {:>6} {:>6} {:>7} {:>7} {:>7}  verdict",
        "clip", "who", "frames", "faces", "right", "wrong", "named"
    );
    for row in &rows {
        let path = labels_dir.join(format!("{}.msgpack", row.file));
        let labels = match LabelsFile::read(&path) {
            Ok(labels) => labels.body,
            Err(error) => {
                println!("{:<22} {:<10} no labels: {error}", row.file, row.member);
                continue;
            }
        };
        let frames = labels.frames.len() as u64;
        let with_face = labels.frames.iter().filter(|f| !f.faces.is_empty()).count() as u64;
        let names = |f: &facefile::format::labels::FrameLabels| -> Vec<String> {
            f.faces.iter().filter_map(|x| x.name.clone()).collect()
        };
        let right = labels
            .frames
            .iter()
            .filter(|f| names(f).contains(&row.member))
            .count() as u64;
        let wrong = labels
            .frames
            .iter()
            .filter(|f| names(f).iter().any(|n| *n != row.member))
            .count() as u64;
        let named = labels
            .frames
            .iter()
            .filter(|f| !names(f).is_empty())
            .count() as u64;
        let share = |n: u64| 100.0 * n as f64 / with_face.max(1) as f64;
        let verdict = match row.member.as_str() {
            "stranger" => {
                strangers += 1;
                let ok = share(named) <= 2.0;
                stranger_pass += ok as usize;
                format!(
                    "{} ({:.1}% of face frames name a member)",
                    if ok { "ok" } else { "FAIL" },
                    share(named)
                )
            }
            "group" => {
                let faces: usize = labels.frames.iter().map(|f| f.faces.len()).sum();
                let twice = labels
                    .frames
                    .iter()
                    .filter(|f| {
                        let mut n = names(f);
                        let before = n.len();
                        n.sort();
                        n.dedup();
                        n.len() != before
                    })
                    .count();
                group_faces.push(faces);
                format!(
                    "{} faces found ({:.1} a frame), a name twice in {twice} frames",
                    faces,
                    faces as f64 / frames.max(1) as f64
                )
            }
            _ => {
                members += 1;
                let ok = share(right) >= 90.0 && share(wrong) <= 2.0;
                member_pass += ok as usize;
                format!(
                    "{} ({:.1}% right, {:.1}% wrong)",
                    if ok { "ok" } else { "FAIL" },
                    share(right),
                    share(wrong)
                )
            }
        };
        let entry = totals
            .entry(if row.member == "stranger" || row.member == "group" {
                row.member.as_str()
            } else {
                "member"
            })
            .or_default();
        entry.0 += with_face;
        entry.1 += right;
        entry.2 += if row.member == "stranger" {
            named
        } else {
            wrong
        };
        println!(
            "{:<22} {:<10} {frames:>6} {with_face:>6} {right:>7} {wrong:>7} {named:>7}  {verdict}",
            row.file, row.member
        );
    }
    println!();
    if let Some((faces, right, wrong)) = totals.get("member") {
        println!(
            "member clips: {member_pass} of {members} with the member named in ≥ 90% of face frames and another in ≤ 2%; all frames: {:.1}% right, {:.1}% wrong",
            100.0 * *right as f64 / (*faces).max(1) as f64,
            100.0 * *wrong as f64 / (*faces).max(1) as f64
        );
    }
    if let Some((faces, _, named)) = totals.get("stranger") {
        println!(
            "stranger clips: {stranger_pass} of {strangers} with a member named in ≤ 2% of face frames; all frames: {named} of {faces} ({:.1}%) name a member",
            100.0 * *named as f64 / (*faces).max(1) as f64
        );
    }
    println!("group clips: faces found {group_faces:?}");
}
