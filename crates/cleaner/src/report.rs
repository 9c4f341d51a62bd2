//! What the cleaner did, per file and per person: printed, saved as `clean-report.msgpack` and
//! `clean-report.json`, and shown as a review page of what needs a human look.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::inspect::{Content, Inspection};
use crate::repair::Repair;

pub const REPORT_KIND: &str = "facelabel-clean-report";
pub const REPORT_VERSION: u32 = 1;

/// The decision for a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Keep,
    Quarantine { reason: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub person: String,
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub format: Option<String>,
    pub faces: Option<usize>,
    pub action: Action,
    #[serde(serialize_with = "serialize_repair")]
    pub repair: Repair,
    /// For a human to look at; the file stays where it is.
    pub flags: Vec<String>,
    /// Where the file is now: `Some(None)` when deleted, `None` when it did not move.
    #[serde(skip)]
    pub final_path: Option<Option<PathBuf>>,
    #[serde(skip)]
    original: PathBuf,
}

fn serialize_repair<S: serde::Serializer>(repair: &Repair, s: S) -> Result<S::Ok, S::Error> {
    match repair {
        Repair::None => s.serialize_none(),
        Repair::Rename { to } => s.serialize_some(&format!("renamed to {}", to.display())),
        Repair::Convert { to, why } => s.serialize_some(&format!("{why}: {}", to.display())),
    }
}

impl FileEntry {
    pub fn new(file: &Inspection) -> FileEntry {
        let (format, faces) = match &file.content {
            Content::Image(facts) => (
                Some(facts.format.to_string()),
                facts.faces.as_ref().map(|f| f.count),
            ),
            Content::Broken(_) => (None, None),
        };
        FileEntry {
            person: file.candidate.person.clone(),
            path: file.candidate.relative.clone(),
            sha256: file.sha256.clone(),
            size: file.size,
            format,
            faces,
            action: Action::Keep,
            repair: Repair::None,
            flags: Vec::new(),
            final_path: None,
            original: file.candidate.path.clone(),
        }
    }

    /// The first reason wins; a quarantined file is not also repaired.
    pub fn quarantine(&mut self, reason: String) {
        if self.action == Action::Keep {
            self.action = Action::Quarantine { reason };
            self.repair = Repair::None;
        }
    }

    pub fn flag(&mut self, reason: String) {
        self.flags.push(reason);
    }

    /// Where to find the file now (for the review page).
    fn location(&self) -> Option<&Path> {
        match &self.final_path {
            Some(Some(path)) => Some(path),
            Some(None) => None,
            None => Some(&self.original),
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct PersonSummary {
    pub files: usize,
    pub kept: usize,
    pub converted: usize,
    pub renamed: usize,
    pub quarantined: usize,
    pub flagged: usize,
}

#[derive(Debug, Serialize)]
pub struct CleanReport {
    pub kind: String,
    pub version: u32,
    pub producer: String,
    pub data_dir: String,
    pub dry_run: bool,
    pub deleted_instead_of_quarantined: bool,
    pub face_checks: bool,
    pub people: BTreeMap<String, PersonSummary>,
    pub files: Vec<FileEntry>,
    pub inspect_seconds: f64,
    pub files_per_second: f64,
}

impl CleanReport {
    pub fn new(
        data_dir: &Path,
        dry_run: bool,
        delete: bool,
        face_checks: bool,
        files: Vec<FileEntry>,
        inspect_seconds: f64,
        total_seconds: f64,
    ) -> CleanReport {
        let mut people: BTreeMap<String, PersonSummary> = BTreeMap::new();
        for file in &files {
            let row = people.entry(file.person.clone()).or_default();
            row.files += 1;
            match (&file.action, &file.repair) {
                (Action::Quarantine { .. }, _) => row.quarantined += 1,
                (Action::Keep, Repair::None) => row.kept += 1,
                (Action::Keep, Repair::Rename { .. }) => row.renamed += 1,
                (Action::Keep, Repair::Convert { .. }) => row.converted += 1,
            }
            row.flagged += !file.flags.is_empty() as usize;
        }
        CleanReport {
            kind: REPORT_KIND.into(),
            version: REPORT_VERSION,
            producer: format!("cleaner {}", env!("CARGO_PKG_VERSION")),
            data_dir: data_dir.display().to_string(),
            dry_run,
            deleted_instead_of_quarantined: delete,
            face_checks,
            people,
            files_per_second: files.len() as f64 / total_seconds.max(1e-9),
            files,
            inspect_seconds,
        }
    }

    pub fn write(&self, data_dir: &Path) -> Result<()> {
        let msgpack = rmp_serde_bytes(self)?;
        facecore::format::write_atomic(&data_dir.join("clean-report.msgpack"), &msgpack)?;
        facecore::format::write_atomic(
            &data_dir.join("clean-report.json"),
            &serde_json::to_vec_pretty(self)?,
        )?;
        facecore::format::write_atomic(
            &data_dir.join("review.html"),
            self.review_page(data_dir).as_bytes(),
        )?;
        Ok(())
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let verb = if self.dry_run { "would be " } else { "" };
        for file in &self.files {
            if let Action::Quarantine { reason } = &file.action {
                let to = if self.deleted_instead_of_quarantined {
                    "deleted"
                } else {
                    "quarantined"
                };
                let _ = writeln!(out, "{verb}{to} {}: {reason}", file.path);
            }
            match &file.repair {
                Repair::None => {}
                Repair::Rename { to } => {
                    let _ = writeln!(
                        out,
                        "{verb}renamed {} → {}",
                        file.path,
                        to.file_name().unwrap_or_default().to_string_lossy()
                    );
                }
                Repair::Convert { to, why } => {
                    let _ = writeln!(
                        out,
                        "{verb}converted {} → {} ({why})",
                        file.path,
                        to.file_name().unwrap_or_default().to_string_lossy()
                    );
                }
            }
            for flag in &file.flags {
                let _ = writeln!(out, "check {}: {flag}", file.path);
            }
        }
        let width = self
            .people
            .keys()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let _ = writeln!(
            out,
            "\n{:<width$}  {:>6}  {:>6}  {:>9}  {:>7}  {:>11}  {:>7}",
            "person", "files", "kept", "converted", "renamed", "quarantined", "flagged"
        );
        for (person, row) in &self.people {
            let pad = width - person.chars().count();
            let _ = writeln!(
                out,
                "{person}{}  {:>6}  {:>6}  {:>9}  {:>7}  {:>11}  {:>7}",
                " ".repeat(pad),
                row.files,
                row.kept,
                row.converted,
                row.renamed,
                row.quarantined,
                row.flagged
            );
        }
        let _ = writeln!(
            out,
            "{} files in {:.1} s ({:.1} files/s{})",
            self.files.len(),
            self.files.len() as f64 / self.files_per_second.max(1e-9),
            self.files_per_second,
            if self.face_checks {
                ", with face checks"
            } else {
                ", no face checks"
            }
        );
        out
    }

    /// An HTML contact sheet of every quarantined or flagged photo, with the reasons.
    fn review_page(&self, data_dir: &Path) -> String {
        let escape = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut cards = String::new();
        let mut count = 0;
        for file in &self.files {
            let reasons: Vec<String> = match &file.action {
                Action::Quarantine { reason } => std::iter::once(format!("quarantined: {reason}"))
                    .chain(file.flags.clone())
                    .collect(),
                Action::Keep => file.flags.clone(),
            };
            if reasons.is_empty() {
                continue;
            }
            count += 1;
            let image = match file.location() {
                Some(path) => {
                    let relative = path.strip_prefix(data_dir).unwrap_or(path);
                    let src: String = relative
                        .components()
                        .map(|c| percent(&c.as_os_str().to_string_lossy()))
                        .collect::<Vec<_>>()
                        .join("/");
                    format!(
                        "<img src=\"{src}\" loading=\"lazy\" alt=\"{}\">",
                        escape(&file.path)
                    )
                }
                None => "<div class=\"gone\">deleted</div>".to_string(),
            };
            let items: String = reasons
                .iter()
                .map(|r| format!("<li>{}</li>", escape(r)))
                .collect();
            let _ = writeln!(
                cards,
                "<figure>{image}<figcaption><b>{}</b><ul>{items}</ul></figcaption></figure>",
                escape(&file.path)
            );
        }
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Photos to review</title><style>\
             body{{font-family:sans-serif;margin:1em}} figure{{display:inline-block;vertical-align:top;width:220px;margin:6px;\
             padding:6px;border:1px solid #ccc;border-radius:6px}} img{{width:220px;height:220px;object-fit:contain;background:#eee}}\
             .gone{{width:220px;height:220px;background:#eee;display:flex;align-items:center;justify-content:center}}\
             ul{{padding-left:1.2em;margin:.3em 0;font-size:90%}}</style></head><body>\n\
             <h1>{count} photos to review</h1><p>Quarantined photos are in <code>.quarantine/</code>; move one back into its \
             person's folder if it was a mistake. Flagged photos stay where they are: delete or move the ones that are wrong.</p>\n\
             {cards}</body></html>\n"
        )
    }
}

fn percent(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn rmp_serde_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    Ok(facecore::format::to_msgpack(value)?)
}
