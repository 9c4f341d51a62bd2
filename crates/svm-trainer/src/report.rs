//! The training report: what a fan needs to trust (or distrust) the model — who is taken for whom,
//! and the rule that decides between a name and Unknown, with what it costs.

use std::fmt::Write as _;

use classifier::{decide, Predictor, Thresholds};
use facefile::format::model::{Classifier, RuleOrigin};
use serde::Serialize;
use svm_fit::rule::Choice;
use svm_fit::{CrossValidation, OperatingData};

use crate::input::Photo;

#[derive(Debug, Serialize)]
pub struct Report {
    pub embedder: String,
    pub classes: Vec<String>,
    /// Photos, and rows trained on (photos plus their grey views).
    pub photos: usize,
    pub views: usize,
    pub photos_per_class: Vec<usize>,
    pub method: String,
    pub method_reason: Option<String>,
    pub c: Option<f64>,
    /// Cross-validated one-vs-one accuracy of each C tried.
    pub c_search: Vec<CSearchRow>,
    pub rule: RuleReport,
    /// The best coverage at each precision, on the same held-out photos and simulated strangers.
    pub curve: Vec<CurvePoint>,
    pub fit_seconds: f64,
    pub cross_validation: Option<CvReport>,
    pub test: Option<TestReport>,
}

#[derive(Debug, Serialize)]
pub struct CSearchRow {
    pub c: f64,
    pub cv_accuracy: f64,
}

/// The decision rule stored in the model.
#[derive(Debug, Serialize)]
pub struct RuleReport {
    pub min_probability: f64,
    pub max_distance: f32,
    pub split_distance: f32,
    /// `learned` or `published`.
    pub origin: String,
    pub precision_target: Option<f64>,
    /// On the held-out photos and simulated strangers it was chosen on.
    pub coverage: Option<f64>,
    pub precision: Option<f64>,
    pub stranger_acceptance: Option<f64>,
    pub members: Option<usize>,
    pub strangers: Option<usize>,
    pub reached_target: Option<bool>,
    pub reason: Option<String>,
    /// `-t` given: the probability the user asked for instead of the learned one.
    pub threshold_override: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct CurvePoint {
    pub precision_target: f64,
    pub min_probability: f64,
    pub max_distance: f32,
    pub coverage: f64,
    pub precision: f64,
    pub stranger_acceptance: f64,
}

#[derive(Debug, Serialize)]
pub struct CvReport {
    pub folds: usize,
    pub seed: u64,
    /// Top-1 accuracy among the known people (closed set), nested cross-validation.
    pub accuracy: f64,
    pub per_class: Vec<ClassScore>,
    /// `confusion[true][predicted]`, rows and columns in `classes` order.
    pub confusion: Vec<Vec<usize>>,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ClassScore {
    pub name: String,
    pub precision: f64,
    pub recall: f64,
    pub support: usize,
}

/// `--test`: the model on photos it never saw, with the rule a user meets.
#[derive(Debug, Serialize)]
pub struct TestReport {
    pub photos: usize,
    /// Photos of people the model knows, and of people it does not (strangers).
    pub members: usize,
    pub strangers: usize,
    /// Top-1 accuracy among members, before the rule.
    pub accuracy: f64,
    /// Members named, and named right, under the rule.
    pub coverage: f64,
    /// Right names / names given.
    pub precision: f64,
    /// Strangers given a member's name.
    pub stranger_false_accept: f64,
    /// Members named as another member.
    pub wrong: f64,
}

pub fn rule_report(
    model: &Classifier,
    choice: Option<&Choice>,
    threshold_override: Option<f64>,
) -> RuleReport {
    let rule = &model.rule;
    let (origin, point, reason) = match &rule.origin {
        RuleOrigin::Learned(point) => ("learned", Some(point), None),
        RuleOrigin::Published { reason } => ("published", None, Some(reason.clone())),
    };
    RuleReport {
        min_probability: rule.min_probability,
        max_distance: rule.max_distance,
        split_distance: rule.split_distance,
        origin: origin.into(),
        precision_target: point.map(|p| p.precision_target),
        coverage: point.map(|p| p.coverage),
        precision: point.map(|p| p.precision),
        stranger_acceptance: point.map(|p| p.stranger_acceptance),
        members: point.map(|p| p.members),
        strangers: point.map(|p| p.strangers),
        reached_target: choice.map(|c| c.reached),
        reason,
        threshold_override,
    }
}

pub fn curve(data: Option<&OperatingData>) -> Vec<CurvePoint> {
    let Some(data) = data else {
        return Vec::new();
    };
    data.curve(&[0.90, 0.95, 0.97, 0.98, 0.99, 1.0])
        .into_iter()
        .map(|(target, choice)| CurvePoint {
            precision_target: target,
            min_probability: choice.thresholds.min_probability,
            max_distance: choice.thresholds.max_distance,
            coverage: choice.measured.coverage,
            precision: choice.measured.precision,
            stranger_acceptance: choice.measured.stranger_acceptance,
        })
        .collect()
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
    CvReport {
        folds: cv.folds,
        seed,
        accuracy: cv.accuracy(),
        per_class,
        confusion,
        seconds,
    }
}

/// Scores the model on held-out photos: members are photos of people it knows, the rest are
/// strangers.
pub fn test_report(model: &Classifier, thresholds: &Thresholds, photos: &[Photo]) -> TestReport {
    let predictor = Predictor::new(model);
    let (mut members, mut strangers) = (0usize, 0usize);
    let (mut top1, mut right, mut wrong, mut accepted) = (0usize, 0usize, 0usize, 0usize);
    for photo in photos {
        let prediction = predictor.predict(&photo.embedding);
        let named = decide(&prediction, thresholds).class();
        match model.classes.iter().position(|c| *c == photo.name) {
            Some(truth) => {
                members += 1;
                top1 += (prediction.class == truth) as usize;
                match named {
                    Some(c) if c == truth => right += 1,
                    Some(_) => wrong += 1,
                    None => {}
                }
            }
            None => {
                strangers += 1;
                accepted += named.is_some() as usize;
            }
        }
    }
    let given = right + wrong + accepted;
    TestReport {
        photos: photos.len(),
        members,
        strangers,
        accuracy: top1 as f64 / members.max(1) as f64,
        coverage: right as f64 / members.max(1) as f64,
        precision: if given == 0 {
            1.0
        } else {
            right as f64 / given as f64
        },
        stranger_false_accept: accepted as f64 / strangers.max(1) as f64,
        wrong: wrong as f64 / members.max(1) as f64,
    }
}

fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

/// The report as text for the terminal.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} photos ({} with grey views) of {} people, {} embeddings; method: {}",
        report.photos,
        report.views,
        report.classes.len(),
        report.embedder,
        report.method
    );
    if let Some(reason) = &report.method_reason {
        let _ = writeln!(out, "  ({reason})");
    }
    if !report.c_search.is_empty() {
        let tried: Vec<String> = report
            .c_search
            .iter()
            .map(|r| format!("C={}: {}", r.c, percent(r.cv_accuracy)))
            .collect();
        let _ = writeln!(out, "C search (cross-validated): {}", tried.join(", "));
    }
    if let Some(c) = report.c {
        let _ = writeln!(out, "chosen C: {c}");
    }
    if let Some(cv) = &report.cross_validation {
        render_cv(&mut out, report, cv);
    } else {
        let fewest = report.photos_per_class.iter().min().copied().unwrap_or(0);
        if fewest < 2 {
            let _ = writeln!(out, "no cross-validation: some person has a single photo");
        } else {
            let _ = writeln!(out, "no cross-validation (--no-cv)");
        }
    }
    render_rule(&mut out, report);
    if let Some(test) = &report.test {
        let _ = writeln!(
            out,
            "\nheld-out test ({} photos: {} of known people, {} strangers): top-1 accuracy {}, \
             {} named correctly, {} named wrongly, precision {}, strangers named {}",
            test.photos,
            test.members,
            test.strangers,
            percent(test.accuracy),
            percent(test.coverage),
            percent(test.wrong),
            percent(test.precision),
            percent(test.stranger_false_accept)
        );
    }
    out
}

fn render_cv(out: &mut String, report: &Report, cv: &CvReport) {
    let width = report
        .classes
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(5)
        .max(6);
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
        "\n{}-fold cross-validated accuracy (who is it, among these people): {:.4}",
        cv.folds, cv.accuracy
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
}

fn render_rule(out: &mut String, report: &Report) {
    let rule = &report.rule;
    let _ = writeln!(
        out,
        "\ndecision rule: a face is named when its best candidate has probability ≥ {:.3} and a \
         training photo of her within distance {:.3}; otherwise Unknown",
        rule.threshold_override.unwrap_or(rule.min_probability),
        rule.max_distance
    );
    if let Some(t) = rule.threshold_override {
        let _ = writeln!(
            out,
            "  (probability {t} from --threshold; the learned one was {:.3})",
            rule.min_probability
        );
    }
    match (&rule.reason, rule.coverage) {
        (Some(reason), _) => {
            let _ = writeln!(out, "  not learned: {reason}");
        }
        (None, Some(coverage)) => {
            let _ = writeln!(
                out,
                "  learned on {} held-out photos and {} simulated strangers (each person's photos \
                 scored by a model trained without her), for precision ≥ {}: {} of the photos named \
                 correctly, precision {}, {} of the strangers named",
                rule.members.unwrap_or(0),
                rule.strangers.unwrap_or(0),
                percent(rule.precision_target.unwrap_or(0.0)),
                percent(coverage),
                percent(rule.precision.unwrap_or(0.0)),
                percent(rule.stranger_acceptance.unwrap_or(0.0)),
            );
            if rule.reached_target == Some(false) {
                let _ = writeln!(
                    out,
                    "  warning: the target precision cannot be reached on these photos; this is the \
                     most precise rule (add photos, or remove wrong ones)"
                );
            }
        }
        (None, None) => {}
    }
    let _ = writeln!(
        out,
        "  the video labeler applies it to each track's mean face (its faces pooled), and starts a \
         new track when a face lies farther than {:.3} from its track's mean",
        rule.split_distance
    );
    if !report.curve.is_empty() {
        let _ = writeln!(out, "  coverage at each precision: {}", {
            report
                .curve
                .iter()
                .map(|p| format!("{} → {}", percent(p.precision_target), percent(p.coverage)))
                .collect::<Vec<_>>()
                .join(", ")
        });
    }
}
