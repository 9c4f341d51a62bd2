//! Which classifier names a face, and with which thresholds: a model may carry a second classifier
//! for small faces (group shots), used below its face height; the user's `--threshold` replaces
//! the probability of both.

use facefile::format::model::Classifier;

use crate::decide::Thresholds;

/// The model's classifiers, each with the thresholds in force for it.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    model: &'a Classifier,
    main: Thresholds,
    /// The small-face classifier's height and thresholds, when the model has one.
    small: Option<(f32, Thresholds)>,
}

impl<'a> Rules<'a> {
    /// The model's rules, with the probability replaced by `min_probability` when given.
    pub fn new(model: &'a Classifier, min_probability: Option<f64>) -> Rules<'a> {
        Rules {
            model,
            main: Thresholds::from_rule(&model.rule, min_probability),
            small: model.small_faces.as_ref().map(|small| {
                (
                    small.below_height,
                    Thresholds::from_rule(&small.model.rule, min_probability),
                )
            }),
        }
    }

    /// The model (its main classifier).
    pub fn model(&self) -> &'a Classifier {
        self.model
    }

    /// Whether a face this tall (pixels) is named by the small-face classifier.
    pub fn is_small(&self, height: f32) -> bool {
        self.small.is_some_and(|(below, _)| height < below)
    }

    /// The classifier and thresholds that name a face this tall.
    pub fn for_height(&self, height: f32) -> (&'a Classifier, Thresholds) {
        match (&self.model.small_faces, self.small) {
            (Some(small), Some((below, thresholds))) if height < below => {
                (&small.model, thresholds)
            }
            _ => (self.model, self.main),
        }
    }

    /// The main classifier's thresholds (every face's, without a small-face classifier).
    pub fn main(&self) -> &Thresholds {
        &self.main
    }

    /// The small-face classifier's height and thresholds.
    pub fn small(&self) -> Option<(f32, Thresholds)> {
        self.small
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use facefile::format::model::{
        DecisionRule, Method, NearestNeighbourModel, RuleOrigin, SmallFaces, TrainingFace,
        TrainingSummary,
    };
    use facefile::Embedding;

    fn model(min_probability: f64) -> Classifier {
        Classifier {
            classes: vec!["Mina".into()],
            strangers: None,
            method: Method::NearestNeighbour(NearestNeighbourModel {
                temperature: 0.1,
                reason: "test".into(),
            }),
            training: vec![TrainingFace {
                class: 0,
                embedding: Embedding::new(vec![1.0, 0.0]).unwrap(),
            }],
            rule: DecisionRule {
                min_probability,
                max_distance: Some(0.5),
                split_distance: 0.7,
                origin: RuleOrigin::Published {
                    reason: "test".into(),
                },
            },
            summary: TrainingSummary::default(),
            colours: Vec::new(),
            small_faces: None,
        }
    }

    #[test]
    fn small_faces_get_the_small_face_classifier_and_its_thresholds() {
        let mut two = model(0.6);
        two.small_faces = Some(SmallFaces {
            below_height: 64.0,
            model: Box::new(model(0.4)),
        });
        let rules = Rules::new(&two, None);
        let (classifier, thresholds) = rules.for_height(30.0);
        assert!(
            rules.is_small(30.0)
                && std::ptr::eq(classifier, &*two.small_faces.as_ref().unwrap().model)
        );
        assert_eq!(thresholds.min_probability, 0.4);
        let (classifier, thresholds) = rules.for_height(64.0);
        assert!(!rules.is_small(64.0) && std::ptr::eq(classifier, &two));
        assert_eq!(thresholds.min_probability, 0.6);
        assert_eq!(rules.small().map(|(h, _)| h), Some(64.0));

        // The user's threshold replaces both.
        let rules = Rules::new(&two, Some(0.9));
        assert_eq!(rules.for_height(10.0).1.min_probability, 0.9);
        assert_eq!(rules.main().min_probability, 0.9);

        // Without a small-face classifier, one rule for every face.
        let one = model(0.6);
        let rules = Rules::new(&one, None);
        assert!(!rules.is_small(1.0) && rules.small().is_none());
        assert_eq!(rules.for_height(1.0).1.min_probability, 0.6);
    }
}
