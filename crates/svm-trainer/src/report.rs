//! The training report: what a fan needs to trust (or distrust) the model.

use serde::Serialize;
use svm_fit::CrossValidation;

#[derive(Debug, Serialize)]
pub struct Report {
    pub classes: Vec<String>,
    pub samples: usize,
    pub samples_per_class: Vec<usize>,
    pub method: String,
    pub method_reason: Option<String>,
    pub c: Option<f64>,
    /// Cross-validated one-vs-one accuracy of each C tried.
    pub c_search: Vec<CSearchRow>,
    pub unknown_distance: f32,
    pub threshold: f64,
    pub fit_seconds: f64,
    pub cross_validation: Option<CvReport>,
}

#[derive(Debug, Serialize)]
pub struct CSearchRow {
    pub c: f64,
    pub cv_accuracy: f64,
}

#[derive(Debug, Serialize)]
pub struct CvReport {
    pub folds: usize,
    pub seed: u64,
    pub accuracy: f64,
    pub per_class: Vec<ClassScore>,
    /// `confusion[true][predicted]`, rows and columns in `classes` order.
    pub confusion: Vec<Vec<usize>>,
    /// Share of faces given a name at the threshold (the rest are `Unknown`).
    pub coverage_at_threshold: f64,
    /// Accuracy among the faces given a name at the threshold.
    pub accuracy_at_threshold: f64,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ClassScore {
    pub name: String,
    pub precision: f64,
    pub recall: f64,
    pub support: usize,
}

pub fn cv_report(cv: &CrossValidation, classes: &[String], seed: u64, seconds: f64) -> CvReport {
    let k = classes.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for h in &cv.held_out {
        confusion[h.truth][h.prediction.class] += 1;
    }
    let per_class = (0..k)
        .map(|c| {
            let support: usize = confusion[c].iter().sum();
            let predicted: usize = (0..k).map(|t| confusion[t][c]).sum();
            let hits = confusion[c][c] as f64;
            ClassScore {
                name: classes[c].clone(),
                precision: if predicted == 0 {
                    0.0
                } else {
                    hits / predicted as f64
                },
                recall: if support == 0 {
                    0.0
                } else {
                    hits / support as f64
                },
                support,
            }
        })
        .collect();
    let named: Vec<_> = cv.held_out.iter().filter(|h| h.known).collect();
    let named_correct = named
        .iter()
        .filter(|h| h.prediction.class == h.truth)
        .count();
    CvReport {
        folds: cv.folds,
        seed,
        accuracy: cv.accuracy(),
        per_class,
        confusion,
        coverage_at_threshold: named.len() as f64 / cv.held_out.len().max(1) as f64,
        accuracy_at_threshold: if named.is_empty() {
            0.0
        } else {
            named_correct as f64 / named.len() as f64
        },
        seconds,
    }
}

/// The report as text for the terminal.
pub fn render(report: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} photos of {} people; method: {}",
        report.samples,
        report.classes.len(),
        report.method
    );
    if let Some(reason) = &report.method_reason {
        let _ = writeln!(out, "  ({reason})");
    }
    if !report.c_search.is_empty() {
        let tried: Vec<String> = report
            .c_search
            .iter()
            .map(|r| format!("C={}: {:.1}%", r.c, r.cv_accuracy * 100.0))
            .collect();
        let _ = writeln!(out, "C search (cross-validated): {}", tried.join(", "));
    }
    if let Some(c) = report.c {
        let _ = writeln!(out, "chosen C: {c}");
    }
    let _ = writeln!(
        out,
        "unknown-face distance gate: {:.3}",
        report.unknown_distance
    );
    let Some(cv) = &report.cross_validation else {
        let _ = writeln!(out, "no cross-validation: some person has a single photo");
        return out;
    };
    let width = report
        .classes
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(out, "\n{:<width$}  precision  recall  photos", "person");
    for row in &cv.per_class {
        let pad = width - row.name.chars().count();
        let _ = writeln!(
            out,
            "{}{}  {:>9.3}  {:>6.3}  {:>6}",
            row.name,
            " ".repeat(pad),
            row.precision,
            row.recall,
            row.support
        );
    }
    let _ = writeln!(
        out,
        "\n{}-fold cross-validated accuracy: {:.4}",
        cv.folds, cv.accuracy
    );
    let _ = writeln!(
        out,
        "at threshold {:.2}: {:.1}% of faces named, {:.2}% of those correct",
        report.threshold,
        cv.coverage_at_threshold * 100.0,
        cv.accuracy_at_threshold * 100.0
    );
    let mut mixups: Vec<(usize, &str, &str)> = Vec::new();
    for (t, row) in cv.confusion.iter().enumerate() {
        for (p, &n) in row.iter().enumerate() {
            if t != p && n > 0 {
                mixups.push((n, &report.classes[t], &report.classes[p]));
            }
        }
    }
    mixups.sort_by_key(|m| std::cmp::Reverse(m.0));
    if !mixups.is_empty() {
        let _ = writeln!(out, "most confused:");
        for (n, truth, predicted) in mixups.iter().take(5) {
            let _ = writeln!(out, "  {truth} taken for {predicted}: {n}×");
        }
    }
    out
}
