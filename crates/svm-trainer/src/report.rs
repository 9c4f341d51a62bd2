//! The training report: what a fan needs to trust (or distrust) the model — who is taken for whom,
//! and the rule that decides between a name and Unknown, with what it costs.

use std::fmt::Write as _;

use classifier::{decide, Predictor, Thresholds};
use facefile::format::model::{Classifier, RuleOrigin};
use serde::Serialize;
use svm_fit::rule::members::Choice;
use svm_fit::{CrossValidation, OperatingData};

use crate::input::Photo;

#[derive(Debug, Serialize)]
pub struct Report {
    pub embedder: String,
    pub classes: Vec<String>,
    /// Photos, and rows trained on (photos plus their mirrored and grey views).
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
    /// The classifier for faces under a height, when the photos have small views.
    pub small_faces: Option<SmallFacesReport>,
}

/// The small-face classifier: its height, what it learned from, and its own rule.
#[derive(Debug, Serialize)]
pub struct SmallFacesReport {
    pub below_height: f32,
    /// Rows it trained on (each photo's views, and its small views).
    pub views: usize,
    pub rule: RuleReport,
}

pub fn small_faces_report(
    below_height: f32,
    fitted: &svm_fit::FittedModel,
    dataset: &svm_fit::Dataset,
    precision: f64,
    threshold_override: Option<f64>,
) -> SmallFacesReport {
    let choice = match &fitted.evidence {
        svm_fit::Evidence::Members(data) => Some(data.choose(precision)),
        _ => None,
    };
    SmallFacesReport {
        below_height,
        views: dataset.len(),
        rule: rule_report(&fitted.classifier, choice.as_ref(), threshold_override),
    }
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
    /// `None`: no distance limit (a rule set on strangers).
    pub max_distance: Option<f32>,
    pub split_distance: f32,
    /// `strangers` (set on photos of people who are not members), `learned` (from the members'
    /// photos alone) or `published`.
    pub origin: String,
    /// `learned`: the precision it keeps; `strangers`: the share of strangers it may name.
    pub precision_target: Option<f64>,
    pub stranger_share_target: Option<f64>,
    /// On the held-out photos and (real or simulated) strangers it was set on.
    pub coverage: Option<f64>,
    pub precision: Option<f64>,
    pub wrong: Option<f64>,
    pub stranger_acceptance: Option<f64>,
    pub members: Option<usize>,
    pub strangers: Option<usize>,
    /// Different people among the strangers.
    pub stranger_people: Option<usize>,
    pub reached_target: Option<bool>,
    pub reason: Option<String>,
    /// `-t` given: the probability the user asked for instead of the learned one.
    pub threshold_override: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct CurvePoint {
    pub precision_target: f64,
    pub min_probability: f64,
    pub max_distance: Option<f32>,
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
    /// The held-out photos taken for someone else, most confident first: each may be a photo of
    /// the wrong person in the folder (move it), or a hard one (keep it).
    pub suspects: Vec<Suspect>,
    pub seconds: f64,
}

/// A photo the cross-validated model took for someone else.
#[derive(Debug, Serialize)]
pub struct Suspect {
    pub path: String,
    pub person: String,
    pub taken_for: String,
    pub probability: f64,
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
    let mut report = RuleReport {
        min_probability: rule.min_probability,
        max_distance: rule.max_distance,
        split_distance: rule.split_distance,
        origin: String::new(),
        precision_target: None,
        stranger_share_target: None,
        coverage: None,
        precision: None,
        wrong: None,
        stranger_acceptance: None,
        members: None,
        strangers: None,
        stranger_people: None,
        reached_target: choice.map(|c| c.reached),
        reason: None,
        threshold_override,
    };
    match &rule.origin {
        RuleOrigin::Strangers(point) => {
            report.origin = "strangers".into();
            report.stranger_share_target = Some(point.share_target);
            report.coverage = Some(point.coverage);
            report.wrong = Some(point.wrong);
            report.stranger_acceptance = Some(point.stranger_acceptance);
            report.members = Some(point.members);
            report.strangers = Some(point.strangers);
            report.stranger_people = Some(point.people);
        }
        RuleOrigin::Learned(point) => {
            report.origin = "learned".into();
            report.precision_target = Some(point.precision_target);
            report.coverage = Some(point.coverage);
            report.precision = Some(point.precision);
            report.stranger_acceptance = Some(point.stranger_acceptance);
            report.members = Some(point.members);
            report.strangers = Some(point.strangers);
        }
        RuleOrigin::Published { reason } => {
            report.origin = "published".into();
            report.reason = Some(reason.clone());
        }
    }
    report
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

pub fn cv_report(
    cv: &CrossValidation,
    classes: &[String],
    photos: &[Photo],
    seed: u64,
    seconds: f64,
) -> CvReport {
    let k = classes.len();
    let mut confusion = vec![vec![0usize; k]; k];
    let mut suspects = Vec::new();
    for h in &cv.held_out {
        confusion[h.truth][h.predicted] += 1;
        if h.truth != h.predicted {
            let photo = &photos[h.photo];
            suspects.push(Suspect {
                path: photo.source.clone(),
                person: classes[h.truth].clone(),
                taken_for: classes[h.predicted].clone(),
                probability: if h.predicted < h.prediction.probabilities.len() {
                    h.prediction.probabilities[h.predicted]
                } else {
                    h.prediction.stranger
                },
            });
        }
    }
    suspects.sort_by(|a, b| b.probability.total_cmp(&a.probability));
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
        suspects,
        seconds,
    }
}

/// Scores the model on held-out photos: members are photos of people it knows, the rest are
/// strangers.
/// Each photo is named as the labeler would name it: by the classifier for its face's height, with
/// that classifier's rule.
pub fn test_report(
    model: &Classifier,
    embedder: facefile::EmbedderKind,
    photos: &[Photo],
) -> TestReport {
    let (mut members, mut strangers) = (0usize, 0usize);
    let (mut top1, mut right, mut wrong, mut accepted) = (0usize, 0usize, 0usize, 0usize);
    let unit = embedder.unit_length();
    for photo in photos {
        let classifier = photo
            .face_height
            .map_or(model, |height| model.for_face_height(height));
        let thresholds = Thresholds::from_rule(&classifier.rule, None);
        let probe = classifier::face_vector(&photo.embedding, photo.mirror.as_ref(), unit);
        let prediction = Predictor::new(classifier).predict(&probe);
        let named = decide(&prediction, &thresholds).class();
        let member = (!photo.stranger)
            .then(|| model.classes.iter().position(|c| *c == photo.name))
            .flatten();
        match member {
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
        "{} photos ({} views: each also mirrored and in grey) of {} classes, {} embeddings; \
         method: {}",
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
    render_rule(&mut out, &report.rule, "decision rule", &report.curve);
    if let Some(small) = &report.small_faces {
        let _ = writeln!(
            out,
            "\nfaces shorter than {} px (group shots) are named by a second classifier, which also \
             learned each photo as a 24- and a 40-px face shows it ({} views)",
            small.below_height, small.views
        );
        render_rule(&mut out, &small.rule, "its decision rule", &[]);
    }
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
    if !cv.suspects.is_empty() {
        let _ = writeln!(
            out,
            "photos taken for someone else (check them: a photo of the wrong person in a folder \
             teaches the model wrong; move it out):"
        );
        for suspect in cv.suspects.iter().take(10) {
            let _ = writeln!(
                out,
                "  {}  {} taken for {} ({})",
                suspect.path,
                suspect.person,
                suspect.taken_for,
                percent(suspect.probability)
            );
        }
        if cv.suspects.len() > 10 {
            let _ = writeln!(
                out,
                "  … {} more in the JSON report",
                cv.suspects.len() - 10
            );
        }
    }
}

/// The rule in words; `curve`: the main rule's coverage at each precision (members-only rules).
fn render_rule(out: &mut String, rule: &RuleReport, heading: &str, curve: &[CurvePoint]) {
    let probability = rule.threshold_override.unwrap_or(rule.min_probability);
    match rule.max_distance {
        None => {
            let _ = writeln!(
                out,
                "\n{heading}: a face is named when its best candidate among the members has \
                 probability ≥ {probability:.3} (the rest goes to \"someone else\"); otherwise \
                 Unknown"
            );
        }
        Some(distance) => {
            let _ = writeln!(
                out,
                "\n{heading}: a face is named when its best candidate has probability ≥ \
                 {probability:.3} and a training photo of her within distance {distance:.3}; \
                 otherwise Unknown"
            );
        }
    }
    if let Some(t) = rule.threshold_override {
        let _ = writeln!(
            out,
            "  (probability {t} from --threshold; the learned one was {:.3})",
            rule.min_probability
        );
    }
    match rule.origin.as_str() {
        "published" => {
            let _ = writeln!(
                out,
                "  not learned: {}",
                rule.reason.as_deref().unwrap_or_default()
            );
            let _ = writeln!(
                out,
                "  how sure: nothing was measured; add photos of people who are not members to \
                 data/.strangers/<anyone>/ (other groups' idols) to set the rule on them"
            );
        }
        "strangers" => {
            let _ = writeln!(
                out,
                "  set on {} photos of {} people who are not members, each scored by a model that \
                 never saw that person: it names {} of them (target ≤ {})",
                rule.strangers.unwrap_or(0),
                rule.stranger_people.unwrap_or(0),
                percent(rule.stranger_acceptance.unwrap_or(0.0)),
                percent(rule.stranger_share_target.unwrap_or(0.0)),
            );
            let _ = writeln!(
                out,
                "  held-out member photos ({}, cross-validated): {} named right, {} named as \
                 another member",
                rule.members.unwrap_or(0),
                percent(rule.coverage.unwrap_or(0.0)),
                percent(rule.wrong.unwrap_or(0.0)),
            );
            let strangers = rule.strangers.unwrap_or(0);
            if strangers < 100 {
                let _ = writeln!(
                    out,
                    "  how sure: with {strangers} strangers' photos the bar rests on the \
                     best-scoring few; more strangers (a few photos each of many people) make it \
                     steadier"
                );
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "  learned on {} held-out photos and {} simulated strangers (each person's photos \
                 scored by a model trained without her), for precision ≥ {}: {} of the photos \
                 named correctly, precision {}, {} of the strangers named",
                rule.members.unwrap_or(0),
                rule.strangers.unwrap_or(0),
                percent(rule.precision_target.unwrap_or(0.0)),
                percent(rule.coverage.unwrap_or(0.0)),
                percent(rule.precision.unwrap_or(0.0)),
                percent(rule.stranger_acceptance.unwrap_or(0.0)),
            );
            let members = rule.members.unwrap_or(0);
            if members < svm_fit::rule::MIN_MEMBER_PHOTOS {
                let _ = writeln!(
                    out,
                    "  how sure: not very: it rests on {members} photos, so it is set strictly (no \
                     simulated stranger named) and may leave members Unknown in video; more photos \
                     of each member, and photos of people who are not members in \
                     data/.strangers/<anyone>/, make it both surer and less strict"
                );
            } else {
                let _ = writeln!(
                    out,
                    "  how sure: no photos of people who are not members were given, so other \
                     groups' idols are only simulated; add some to data/.strangers/<anyone>/ to set \
                     the rule on real ones"
                );
            }
            if rule.reached_target == Some(false) {
                let _ = writeln!(
                    out,
                    "  warning: the target precision cannot be reached on these photos; this is the \
                     most precise rule (add photos, or remove wrong ones)"
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "  the video labeler applies it to each track's mean face (its faces pooled), and starts a \
         new track when a face lies farther than {:.3} from its track's mean",
        rule.split_distance
    );
    if !curve.is_empty() {
        let _ = writeln!(out, "  coverage at each precision: {}", {
            curve
                .iter()
                .map(|p| format!("{} → {}", percent(p.precision_target), percent(p.coverage)))
                .collect::<Vec<_>>()
                .join(", ")
        });
    }
}
