//! `model.msgpack`: the trained classifier, with the decision rule learned from its training photos.
//! Inference lives in the `classifier` crate; training in `svm-fit`.

use serde::{Deserialize, Serialize};

use super::{check_dimension, finite, Format, Stamped};
use crate::embedding::{EmbedderId, Embedding};

/// The model file.
pub type ClassifierFile = Stamped<Classifier>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classifier {
    /// Class names (people), in label order, all different.
    pub classes: Vec<String>,
    /// When the model was also trained on photos of people who are not members, they form one more
    /// class, numbered `classes.len()` in `method` and `training`: "someone else".
    pub strangers: Option<StrangerClass>,
    pub method: Method,
    /// Training faces: the open-set rule measures distances to them (and nearest neighbour
    /// classifies by them).
    pub training: Vec<TrainingFace>,
    /// When a face or a track is named, and when it is Unknown.
    pub rule: DecisionRule,
    /// How the model was chosen and how well it did in cross-validation.
    pub summary: TrainingSummary,
    /// Each class's colour (RGB) in videos, photos and reports, kept from the model this one
    /// replaced so a person keeps hers when someone is added (see [`crate::colours`]). Absent from
    /// models of earlier builds: colours are then given in class order.
    #[serde(default)]
    pub colours: Vec<[u8; 3]>,
    /// The classifier for small faces, when the photos were encoded with small views: it names
    /// the faces shorter than its height, this one the rest. (Absent from models of earlier
    /// builds, and when the encodings have no small views: this classifier names every face.)
    #[serde(default)]
    pub small_faces: Option<SmallFaces>,
}

/// A second classifier of the same people for the small faces of group shots. It learned from the
/// same photos, each also seen as a 24- and a 40-px face shows it. Those views teach it what a
/// small, blurred member looks like, but they also make it readier to name people it was not
/// taught. So it is used only where the main classifier is blind, and close-ups keep the main
/// classifier's refusal of strangers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmallFaces {
    /// Faces shorter than this (pixels, in the frame or photo; for a track, its median face) are
    /// named by `model`.
    pub below_height: f32,
    /// The same classes, in the same order; its own rule and training faces. It has no small-face
    /// classifier of its own.
    pub model: Box<Classifier>,
}

impl Classifier {
    /// The classifier that names a face this tall (pixels): the small-face one below its height,
    /// this one otherwise.
    pub fn for_face_height(&self, height: f32) -> &Classifier {
        match &self.small_faces {
            Some(small) if height < small.below_height => &small.model,
            _ => self,
        }
    }

    /// Each class's colour: the recorded ones, or (models of earlier builds) the palette in class
    /// order.
    pub fn person_colours(&self) -> Vec<[u8; 3]> {
        if self.colours.len() == self.classes.len() {
            self.colours.clone()
        } else {
            crate::colours::in_class_order(self.classes.len())
        }
    }
}

impl Format for Classifier {
    const KIND: &'static str = "facelabel-model";
    const VERSION: u32 = 3;
    const PRODUCER: &'static str = "`svm-trainer` (make train)";

    fn validate(&self, embedder: Option<&EmbedderId>) -> Result<(), String> {
        let Some(embedder) = embedder else {
            return Err("the model does not say which embedding model it was trained on".into());
        };
        let k = self.classes.len();
        if k == 0 {
            return Err("no classes".into());
        }
        if !self.colours.is_empty() && self.colours.len() != k {
            return Err(format!("{} colours for {k} classes", self.colours.len()));
        }
        let mut names: Vec<&String> = self.classes.iter().collect();
        names.sort();
        if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("the class {:?} appears twice", pair[0]));
        }
        let n = self.class_count();
        if self.training.iter().any(|t| t.class as usize >= n) {
            return Err("a training face has an unknown class".into());
        }
        let mut trained = vec![false; n];
        for face in &self.training {
            trained[face.class as usize] = true;
        }
        if let Some(empty) = trained.iter().position(|&t| !t) {
            return Err(format!(
                "{} has no training faces",
                self.class_name(empty).unwrap_or("someone")
            ));
        }
        check_dimension(Some(embedder), self.training.iter().map(|t| &t.embedding))?;
        match &self.method {
            Method::Svm(svm) => {
                finite("C", svm.c)?;
                if svm.pairs.len() != n * (n - 1) / 2 {
                    return Err(format!("{} pairs for {n} classes", svm.pairs.len()));
                }
                // Every unordered pair exactly once, `first < second`: a swapped or repeated pair
                // would silently turn probabilities around.
                let mut seen = vec![false; n * n];
                for pair in &svm.pairs {
                    let (first, second) = (pair.first as usize, pair.second as usize);
                    if first >= second || second >= n {
                        return Err(format!(
                            "a pair model compares classes {first} and {second}; each pair must be two different classes below {n}, the smaller first"
                        ));
                    }
                    if std::mem::replace(&mut seen[first * n + second], true) {
                        return Err(format!(
                            "the pair of classes {first} and {second} appears twice"
                        ));
                    }
                    if pair.weights.len() != embedder.dimension as usize {
                        return Err(format!(
                            "a pair model has {} weights for {}-value embeddings",
                            pair.weights.len(),
                            embedder.dimension
                        ));
                    }
                    for (name, value) in [
                        ("a pair's bias", pair.bias),
                        ("a Platt slope", pair.platt_a),
                        ("a Platt offset", pair.platt_b),
                    ] {
                        finite(name, value)?;
                    }
                    for &w in &pair.weights {
                        finite("an SVM weight", w)?;
                    }
                }
            }
            Method::NearestNeighbour(nn) => {
                finite("the temperature", nn.temperature as f64)?;
                if nn.temperature <= 0.0 {
                    return Err("the temperature must be positive".into());
                }
            }
        }
        if let Some(strangers) = &self.strangers {
            if strangers.photos == 0 {
                return Err("the strangers class has no photos".into());
            }
        }
        self.rule.validate()?;
        if let Some(small) = &self.small_faces {
            finite("the small-face height", small.below_height as f64)?;
            if small.below_height <= 0.0 {
                return Err("the small-face height must be positive".into());
            }
            let model = &small.model;
            if model.classes != self.classes
                || model.strangers.is_some() != self.strangers.is_some()
            {
                return Err(
                    "the small-face classifier does not name the same people as the model".into(),
                );
            }
            if model.small_faces.is_some() {
                return Err(
                    "the small-face classifier has a small-face classifier of its own".into(),
                );
            }
            model
                .validate(Some(embedder))
                .map_err(|e| format!("the small-face classifier: {e}"))?;
        }
        Ok(())
    }
}

impl Classifier {
    /// Classes the method tells apart: the members, and "someone else" when trained with strangers.
    pub fn class_count(&self) -> usize {
        self.classes.len() + self.strangers.is_some() as usize
    }

    /// The member named by a class index; `None` for the strangers class.
    pub fn class_name(&self, class: usize) -> Option<&str> {
        self.classes.get(class).map(String::as_str)
    }
}

/// The people who are not members the model was trained on, as one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrangerClass {
    /// Different people among them, and their photos.
    pub people: usize,
    pub photos: usize,
}

/// One training face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingFace {
    pub class: u32,
    pub embedding: Embedding,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Svm(SvmModel),
    NearestNeighbour(NearestNeighbourModel),
}

/// One-vs-one linear SVMs with Platt calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmModel {
    /// Regularisation constant the SVMs were fitted with.
    pub c: f64,
    /// One per pair of classes `first < second`; a positive decision value favours `first`.
    pub pairs: Vec<PairModel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairModel {
    pub first: u32,
    pub second: u32,
    pub weights: Vec<f64>,
    pub bias: f64,
    /// Platt's sigmoid: P(first | first or second) = 1 / (1 + exp(a·f + b)).
    pub platt_a: f64,
    pub platt_b: f64,
}

/// Nearest neighbour: probabilities are a softmax of minus the distance to each person's nearest
/// training face, divided by `temperature`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearestNeighbourModel {
    pub temperature: f32,
    /// Why this method was chosen, for the user.
    pub reason: String,
}

/// The rule that turns a prediction into a name or Unknown. A face (or a track's pooled face) is
/// named when its top member's probability reaches `min_probability` and, when the rule has a
/// distance limit, it lies within `max_distance` of a training face of that person. A model
/// trained with strangers needs no distance limit: "someone else" is one of its classes and the
/// threshold is set on strangers it never saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRule {
    pub min_probability: f64,
    pub max_distance: Option<f32>,
    /// A track whose new face lies farther than this from the track's mean face is a new person
    /// (a cut the cut rule missed, or two people crossing).
    pub split_distance: f32,
    pub origin: RuleOrigin,
}

impl DecisionRule {
    fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.min_probability) {
            return Err(format!(
                "the rule's probability threshold {} is not between 0 and 1",
                self.min_probability
            ));
        }
        let limits = [
            ("the rule's distance limit", self.max_distance),
            ("the rule's track split distance", Some(self.split_distance)),
        ];
        for (name, value) in limits {
            let Some(value) = value else { continue };
            finite(name, value as f64)?;
            if value <= 0.0 {
                return Err(format!("{name} must be positive, not {value}"));
            }
        }
        let shares: Vec<(&str, f64)> = match &self.origin {
            RuleOrigin::Learned(point) => vec![
                ("the precision target", point.precision_target),
                ("the cross-validated coverage", point.coverage),
                ("the cross-validated precision", point.precision),
                ("the stranger acceptance", point.stranger_acceptance),
            ],
            RuleOrigin::Strangers(point) => vec![
                ("the stranger share target", point.share_target),
                ("the stranger acceptance", point.stranger_acceptance),
                ("the held-out coverage", point.coverage),
                ("the held-out wrong names", point.wrong),
            ],
            RuleOrigin::Published { .. } => Vec::new(),
        };
        for (name, value) in shares {
            finite(name, value)?;
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} {value} is not between 0 and 1"));
            }
        }
        Ok(())
    }
}

/// Where the rule's thresholds came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOrigin {
    /// Set on photos of people who are not members, each scored by a model that never saw them
    /// (see [`StrangerPoint`]).
    Strangers(StrangerPoint),
    /// Chosen on held-out predictions of the members' photos alone (see [`OperatingPoint`]), when
    /// there were no strangers to learn from.
    Learned(OperatingPoint),
    /// Too few photos to learn from: the embedding model's published threshold; the reason says why.
    Published { reason: String },
}

/// The operating point the trainer chose: the most faces named while the named ones stay at least
/// `precision_target` correct, measured on cross-validated predictions of the members' photos plus
/// simulated strangers (each member's photos scored by a model trained without her).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    pub precision_target: f64,
    /// Share of the members' held-out photos named, and named right.
    pub coverage: f64,
    /// Share of the named faces (members and simulated strangers) named right.
    pub precision: f64,
    /// Share of simulated strangers named as someone.
    pub stranger_acceptance: f64,
    /// Held-out member photos and simulated strangers it was measured on.
    pub members: usize,
    pub strangers: usize,
}

/// The threshold set on strangers: the lowest that names at most `share_target` of the strangers'
/// photos, each scored by a model trained without that person (leave one person out), so the bar
/// stands for people the model has never seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrangerPoint {
    pub share_target: f64,
    /// Strangers' photos (and different people) the threshold was set on.
    pub strangers: usize,
    pub people: usize,
    /// Share of those photos the rule names (as some member).
    pub stranger_acceptance: f64,
    /// Held-out member photos (cross-validated): named right, and named as another member.
    pub members: usize,
    pub coverage: f64,
    pub wrong: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingSummary {
    /// The folders the training photos were read from (full paths): the labeler never writes
    /// into them. (Absent from models of earlier builds: read as none.)
    #[serde(default)]
    pub data_folders: Vec<String>,
    /// Photos (a photo's extra views are not counted again).
    pub samples: usize,
    pub samples_per_class: Vec<usize>,
    /// Cross-validated accuracy (fraction) of the whole training procedure; `None` when too few
    /// samples to cross-validate.
    pub cv_accuracy: Option<f64>,
    pub cv_folds: usize,
    pub seed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedding::EmbedderKind;

    pub fn sample() -> ClassifierFile {
        let e = |v: f32| Embedding::new(vec![v; 128]).unwrap();
        Stamped::new(
            "test",
            Some(EmbedderKind::Dlib.id()),
            Classifier {
                classes: vec!["Mina".into(), "Nayeon".into()],
                strangers: None,
                method: Method::Svm(SvmModel {
                    c: 1.0,
                    pairs: vec![PairModel {
                        first: 0,
                        second: 1,
                        weights: vec![0.5; 128],
                        bias: 0.1,
                        platt_a: -2.0,
                        platt_b: 0.0,
                    }],
                }),
                training: vec![
                    TrainingFace {
                        class: 0,
                        embedding: e(0.1),
                    },
                    TrainingFace {
                        class: 1,
                        embedding: e(-0.1),
                    },
                ],
                rule: DecisionRule {
                    min_probability: 0.4,
                    max_distance: Some(0.5),
                    split_distance: 0.7,
                    origin: RuleOrigin::Published {
                        reason: "test".into(),
                    },
                },
                summary: TrainingSummary::default(),
                colours: Vec::new(),
                small_faces: None,
            },
        )
    }

    #[test]
    fn small_faces_are_named_by_the_small_face_classifier_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.msgpack");
        let mut two = sample();
        let mut small = sample().body;
        small.rule.min_probability = 0.3;
        two.body.small_faces = Some(SmallFaces {
            below_height: 64.0,
            model: Box::new(small),
        });
        two.write(&path).unwrap();
        let read = ClassifierFile::read(&path).unwrap();
        assert_eq!(read, two);
        assert_eq!(read.body.for_face_height(40.0).rule.min_probability, 0.3);
        assert_eq!(read.body.for_face_height(64.0).rule.min_probability, 0.4);
        assert_eq!(
            sample().body.for_face_height(10.0).rule.min_probability,
            0.4
        );

        let mut bad = two.clone();
        let small = bad.body.small_faces.as_mut().unwrap();
        small.model.classes.swap(0, 1);
        bad.write(&path).unwrap();
        let err = ClassifierFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("not name the same people"), "{err}");

        let mut bad = two.clone();
        let small = bad.body.small_faces.as_mut().unwrap();
        small.model.rule.min_probability = 2.0;
        bad.write(&path).unwrap();
        let err = ClassifierFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("the small-face classifier: "), "{err}");

        let mut bad = two;
        bad.body.small_faces.as_mut().unwrap().below_height = f32::NAN;
        bad.write(&path).unwrap();
        let err = ClassifierFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("small-face height"), "{err}");
    }

    #[test]
    fn round_trip_and_validation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.msgpack");
        sample().write(&path).unwrap();
        assert_eq!(ClassifierFile::read(&path).unwrap(), sample());

        let mut bad = sample();
        bad.body.classes[1] = "Mina".into();
        bad.write(&path).unwrap();
        let err = ClassifierFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");

        let mut bad = sample();
        if let Method::Svm(svm) = &mut bad.body.method {
            svm.pairs[0].weights[3] = f64::NAN;
        }
        bad.write(&path).unwrap();
        let err = ClassifierFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("SVM weight is NaN"), "{err}");

        let mut bad = sample();
        bad.body.rule.max_distance = Some(f32::NAN);
        bad.write(&path).unwrap();
        let err = ClassifierFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("distance limit is NaN"), "{err}");

        // A pair list that would turn probabilities around: swapped, repeated, out of range.
        for (first, second, expected) in [
            (1, 0, "the smaller first"),
            (0, 0, "two different classes"),
            (0, 2, "below 2"),
        ] {
            let mut bad = sample();
            if let Method::Svm(svm) = &mut bad.body.method {
                svm.pairs[0].first = first;
                svm.pairs[0].second = second;
            }
            bad.write(&path).unwrap();
            let err = ClassifierFile::read(&path).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        let mut bad = sample();
        bad.body.training.retain(|t| t.class == 0);
        bad.write(&path).unwrap();
        let err = ClassifierFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("Nayeon has no training faces"), "{err}");

        let mut bad = sample();
        bad.body.rule.min_probability = 1.5;
        bad.write(&path).unwrap();
        let err = ClassifierFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("not between 0 and 1"), "{err}");
    }
}
