//! What the cleaner did, per file and per person: printed, saved as `clean-report.msgpack` and
//! `clean-report.json`, and shown as a review page of what needs a human look.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use facefile::format::clean_report::{
    Action, CleanReport, CleanReportFile, FileReport, PersonSummary, CLEAN_REPORT_FILE,
};
use facefile::{AnalysisSettings, Stamped};

use crate::inspect::Inspection;
use crate::repair::Repair;

/// One file's decision while the cleaner runs: what the report will say, and where the file is.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub report: FileReport,
    pub repair: Repair,
    /// Where the file is now: `Some(None)` when deleted, `None` when it did not move.
    pub final_path: Option<Option<PathBuf>>,
    original: PathBuf,
    /// The face the checks used and the picture's size (upright), to show on the review page.
    face_box: Option<(facefile::BoundingBox, u32, u32)>,
}

impl FileEntry {
    pub fn new(file: &Inspection) -> FileEntry {
        FileEntry {
            report: FileReport {
                person: file.candidate.person.clone(),
                path: file.candidate.relative.clone(),
                sha256: file.sha256().to_string(),
                size: file.examined.size,
                format: file.facts().map(|facts| facts.format.to_string()),
                faces: file.faces().map(|f| f.count),
                action: Action::Keep,
                repair: None,
                flags: Vec::new(),
                now_at: None,
            },
            repair: Repair::None,
            final_path: None,
            original: file.candidate.path.clone(),
            face_box: file.facts().and_then(|facts| {
                let face = facts.faces.as_ref()?.subject.as_ref()?;
                Some((face.detection.bbox, facts.width, facts.height))
            }),
        }
    }

    pub fn action(&self) -> &Action {
        &self.report.action
    }

    /// The first reason wins; a quarantined file is not also repaired.
    pub fn quarantine(&mut self, reason: String) {
        if self.report.action == Action::Keep {
            self.report.action = Action::Quarantine { reason };
            self.repair = Repair::None;
        }
    }

    pub fn flag(&mut self, reason: String) {
        self.report.flags.push(reason);
    }

    /// Where to find the file now (for the review page).
    fn location(&self) -> Option<&Path> {
        match &self.final_path {
            Some(Some(path)) => Some(path),
            Some(None) => None,
            None => Some(&self.original),
        }
    }

    /// The entry as the report records it.
    fn finished(&self, data_dir: &Path) -> FileReport {
        let mut report = self.report.clone();
        report.repair = match &self.repair {
            Repair::None => None,
            Repair::Rename { to } => Some(format!("renamed to {}", to.display())),
            Repair::Convert { to, why } => Some(format!("{why}: {}", to.display())),
        };
        report.now_at = match &self.final_path {
            Some(Some(path)) => Some(
                path.strip_prefix(data_dir)
                    .unwrap_or(path)
                    .display()
                    .to_string(),
            ),
            _ => None,
        };
        report
    }
}

/// The whole run, for printing, the report files and the review page.
pub struct Summary {
    pub report: CleanReport,
    pub entries: Vec<FileEntry>,
}

impl Summary {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        data_dir: &Path,
        dry_run: bool,
        delete: bool,
        face_checks: Option<AnalysisSettings>,
        entries: Vec<FileEntry>,
        inspect_seconds: f64,
        total_seconds: f64,
    ) -> Summary {
        let mut people: BTreeMap<String, PersonSummary> = BTreeMap::new();
        for entry in &entries {
            let row = people.entry(entry.report.person.clone()).or_default();
            row.files += 1;
            match (&entry.report.action, &entry.repair) {
                (Action::Quarantine { .. }, _) => row.quarantined += 1,
                (Action::Keep, Repair::None) => row.kept += 1,
                (Action::Keep, Repair::Rename { .. }) => row.renamed += 1,
                (Action::Keep, Repair::Convert { .. }) => row.converted += 1,
            }
            row.flagged += !entry.report.flags.is_empty() as usize;
        }
        Summary {
            report: CleanReport {
                data_dir: data_dir.display().to_string(),
                dry_run,
                deleted_instead_of_quarantined: delete,
                face_checks,
                people,
                files: entries.iter().map(|e| e.finished(data_dir)).collect(),
                inspect_seconds,
                files_per_second: entries.len() as f64 / total_seconds.max(1e-9),
            },
            entries,
        }
    }

    pub fn write(&self, data_dir: &Path) -> Result<()> {
        let file: CleanReportFile = Stamped::new(
            format!("cleaner {}", env!("CARGO_PKG_VERSION")),
            self.report.face_checks.map(|s| s.embedder.id()),
            self.report.clone(),
        );
        file.write(&data_dir.join(CLEAN_REPORT_FILE))?;
        facefile::fs::write_atomic(
            &data_dir.join("clean-report.json"),
            &serde_json::to_vec_pretty(&file)?,
        )?;
        facefile::fs::write_atomic(
            &data_dir.join("review.html"),
            self.review_page(data_dir).as_bytes(),
        )?;
        Ok(())
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let report = &self.report;
        let verb = if report.dry_run { "would be " } else { "" };
        for file in &self.entries {
            let path = &file.report.path;
            if let Action::Quarantine { reason } = &file.report.action {
                let to = if report.deleted_instead_of_quarantined {
                    "deleted"
                } else {
                    "quarantined"
                };
                let _ = writeln!(out, "{verb}{to} {path}: {reason}");
            }
            match &file.repair {
                Repair::None => {}
                Repair::Rename { to } => {
                    let _ = writeln!(
                        out,
                        "{verb}renamed {path} → {}",
                        to.file_name().unwrap_or_default().to_string_lossy()
                    );
                }
                Repair::Convert { to, why } => {
                    let _ = writeln!(
                        out,
                        "{verb}converted {path} → {} ({why})",
                        to.file_name().unwrap_or_default().to_string_lossy()
                    );
                }
            }
            for flag in &file.report.flags {
                let _ = writeln!(out, "check {path}: {flag}");
            }
        }
        let width = report
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
        for (person, row) in &report.people {
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
            self.entries.len(),
            self.entries.len() as f64 / report.files_per_second.max(1e-9),
            report.files_per_second,
            if report.face_checks.is_some() {
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
        for file in &self.entries {
            let reasons: Vec<String> = match &file.report.action {
                Action::Quarantine { reason } => std::iter::once(format!("quarantined: {reason}"))
                    .chain(file.report.flags.clone())
                    .collect(),
                Action::Keep => file.report.flags.clone(),
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
                    let img = format!(
                        "<img src=\"{src}\" loading=\"lazy\" alt=\"{}\">",
                        escape(&file.report.path)
                    );
                    match file.face_box {
                        Some((bbox, width, height)) => face_frame(&img, bbox, width, height),
                        None => format!("<div class=\"photo\">{img}</div>"),
                    }
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
                escape(&file.report.path)
            );
        }
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Photos to review</title><style>\
             body{{font-family:sans-serif;margin:1em}} figure{{display:inline-block;vertical-align:top;width:220px;margin:6px;\
             padding:6px;border:1px solid #ccc;border-radius:6px}} .photo img{{width:220px;height:220px;object-fit:contain;background:#eee}}\
             .framed{{width:220px;height:220px;background:#eee;display:flex;align-items:center;justify-content:center}}\
             .framed div{{position:relative}} .framed img{{width:100%;height:100%;display:block}}\
             .face{{position:absolute;border:2px solid #e6007e;box-sizing:border-box}}\
             .gone{{width:220px;height:220px;background:#eee;display:flex;align-items:center;justify-content:center}}\
             ul{{padding-left:1.2em;margin:.3em 0;font-size:90%}}</style></head><body>\n\
             <h1>{count} photos to review</h1><p>Quarantined photos are in <code>.quarantine/</code>; move one back into its \
             person's folder if it was a mistake. Flagged photos stay where they are: delete or move the ones that are wrong. \
             The pink box is the face the checks looked at.</p>\n\
             {cards}</body></html>\n"
        )
    }
}

/// The photo scaled into the 220 px square with the face's box drawn over it, in percentages of the
/// picture so the box stays on the face at any zoom.
fn face_frame(img: &str, bbox: facefile::BoundingBox, width: u32, height: u32) -> String {
    let scale = 220.0 / width.max(height).max(1) as f64;
    let (w, h) = (width as f64 * scale, height as f64 * scale);
    let percent_of = |v: i32, of: u32| (v as f64 / of.max(1) as f64 * 100.0).clamp(0.0, 100.0);
    let (left, top) = (percent_of(bbox.left, width), percent_of(bbox.top, height));
    let (right, bottom) = (
        percent_of(bbox.right, width),
        percent_of(bbox.bottom, height),
    );
    format!(
        "<div class=\"framed\"><div style=\"width:{w:.0}px;height:{h:.0}px\">{img}<span class=\"face\" \
         style=\"left:{left:.1}%;top:{top:.1}%;width:{:.1}%;height:{:.1}%\"></span></div></div>",
        right - left,
        bottom - top
    )
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
