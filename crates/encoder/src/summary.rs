//! The table printed at the end: per person, photos seen, encoded, and rejected by reason.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use facefile::format::encodings::{ImageRecord, Outcome, Rejection, Role};

/// The folders the records' paths are relative to, and where crops went.
pub struct Folders<'a> {
    pub data: &'a Path,
    pub strangers: Option<&'a Path>,
    pub crops: Option<&'a Path>,
}

/// The row of the strangers in the table (all of them together).
const STRANGERS_ROW: &str = "(strangers)";

/// What the encoder prints at the end: one line per rejected photo, the table, and what was
/// processed or reused.
pub fn report(folders: &Folders, records: &[ImageRecord], reused: &[bool]) -> String {
    let mut out = String::new();
    for record in records {
        if let Outcome::Rejected(rejection) = &record.outcome {
            let root = match record.role {
                Role::Member => folders.data,
                Role::Stranger => folders.strangers.unwrap_or(folders.data),
            };
            let _ = writeln!(
                out,
                "rejected {}: {rejection}",
                root.join(&record.path).display()
            );
        }
    }
    out.push('\n');
    out.push_str(&render(records, reused));
    let fresh = reused.iter().filter(|r| !**r).count();
    let faces: u32 = records.iter().map(|r| faces_found(&r.outcome)).sum();
    let _ = writeln!(
        out,
        "\n{faces} faces detected ({fresh} photos processed, {} reused)",
        records.len() - fresh
    );
    let strangers: std::collections::BTreeSet<&str> = records
        .iter()
        .filter(|r| r.role == Role::Stranger && r.face().is_some())
        .map(|r| r.person.as_str())
        .collect();
    if !strangers.is_empty() {
        let _ = writeln!(
            out,
            "{} photos of {} people who are not members, for the trainer to learn when to say Unknown",
            records
                .iter()
                .filter(|r| r.role == Role::Stranger && r.face().is_some())
                .count(),
            strangers.len()
        );
    }
    if let Some(crops) = folders.crops {
        let _ = writeln!(out, "aligned faces saved under {}", crops.display());
    }
    out
}

fn faces_found(outcome: &Outcome) -> u32 {
    match outcome {
        Outcome::Encoded(face) => face.faces_found,
        Outcome::Rejected(Rejection::SeveralFaces { count }) => *count,
        Outcome::Rejected(_) => 0,
    }
}

#[derive(Default, Clone, Copy)]
struct Row {
    seen: usize,
    encoded: usize,
    reused: usize,
    unreadable: usize,
    no_face: usize,
    several_faces: usize,
}

/// Renders the summary; `reused` tells which records came from the previous run unchanged.
pub fn render(records: &[ImageRecord], reused: &[bool]) -> String {
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for (record, &was_reused) in records.iter().zip(reused) {
        let name = match record.role {
            Role::Member => record.person.as_str(),
            Role::Stranger => STRANGERS_ROW,
        };
        let row = rows.entry(name).or_default();
        row.seen += 1;
        row.reused += was_reused as usize;
        match &record.outcome {
            Outcome::Encoded(_) => row.encoded += 1,
            Outcome::Rejected(Rejection::Unreadable { .. }) => row.unreadable += 1,
            Outcome::Rejected(Rejection::NoFace) => row.no_face += 1,
            Outcome::Rejected(Rejection::SeveralFaces { .. }) => row.several_faces += 1,
        }
    }
    let width = rows
        .keys()
        .map(|name| name.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut out = String::new();
    let header = [
        "photos",
        "encoded",
        "reused",
        "unreadable",
        "no face",
        "several",
    ];
    let _ = write!(out, "{:<width$}", "person");
    for h in header {
        let _ = write!(out, "  {h:>10}");
    }
    out.push('\n');
    let mut total = Row::default();
    let line = |out: &mut String, name: &str, row: &Row| {
        let pad = width - name.chars().count();
        let _ = write!(out, "{name}{}", " ".repeat(pad));
        for n in [
            row.seen,
            row.encoded,
            row.reused,
            row.unreadable,
            row.no_face,
            row.several_faces,
        ] {
            let _ = write!(out, "  {n:>10}");
        }
        out.push('\n');
    };
    for (name, row) in &rows {
        line(&mut out, name, row);
        total.seen += row.seen;
        total.encoded += row.encoded;
        total.reused += row.reused;
        total.unreadable += row.unreadable;
        total.no_face += row.no_face;
        total.several_faces += row.several_faces;
    }
    line(&mut out, "total", &total);
    out
}
