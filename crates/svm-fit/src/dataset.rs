//! Labelled embeddings. A photo may come with other views of its face (its mirror image, its grey
//! version): they are trained on like any face, but a photo and its views always fall in the same
//! fold, and a held-out photo is scored as the labeler scores a face (its embedding pooled with its
//! mirror image, [`classifier::face_vector`]), so no held-out face has a copy of itself in training.
//!
//! Photos of people who are not members (strangers) form one more class, the last, so every
//! method learns "someone else" like any person; each stranger's own name is kept, so that a
//! person's photos can be held out together.

use facefile::{EmbedderKind, Embedding};

/// The name of the strangers' class in reports.
pub const STRANGERS_CLASS: &str = "(someone else)";

/// One photo's embeddings.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// The member, or for a stranger who the stranger is.
    pub name: &'a str,
    /// The photo shows someone who is not a member.
    pub stranger: bool,
    pub embedding: &'a Embedding,
    /// The embedding of the face mirrored, when the encoder made it.
    pub mirror: Option<&'a Embedding>,
    /// Other views trained on (the grey version).
    pub extra_views: &'a [Embedding],
}

/// Labelled embeddings, one row per view.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Class names: the members, sorted, then [`STRANGERS_CLASS`] when there are strangers.
    pub classes: Vec<String>,
    /// Whether the last class is the strangers'.
    pub strangers: bool,
    pub labels: Vec<u32>,
    /// The photo each row belongs to (0..photos).
    pub photos: Vec<u32>,
    /// Whether the row is the photo's own embedding (not another view).
    pub primary: Vec<bool>,
    pub embeddings: Vec<Embedding>,
    /// Per photo: the vector it is scored with when held out.
    pub probes: Vec<Embedding>,
    /// Per photo: for a stranger, the index of who it is in `stranger_people`.
    pub stranger_of_photo: Vec<Option<u32>>,
    /// The different strangers, sorted.
    pub stranger_people: Vec<String>,
    /// The embedding model behind the vectors.
    pub embedder: EmbedderKind,
}

impl Dataset {
    /// Member classes are sorted by name; photos are numbered in the order given.
    pub fn new<'a>(
        samples: impl IntoIterator<Item = Sample<'a>>,
        embedder: EmbedderKind,
    ) -> Dataset {
        let samples: Vec<Sample> = samples.into_iter().collect();
        let sorted_names = |stranger: bool| {
            let mut names: Vec<String> = samples
                .iter()
                .filter(|s| s.stranger == stranger)
                .map(|s| s.name.to_string())
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let mut classes = sorted_names(false);
        let members = classes.len() as u32;
        let stranger_people = sorted_names(true);
        let strangers = !stranger_people.is_empty();
        if strangers {
            classes.push(STRANGERS_CLASS.to_string());
        }
        let unit = embedder.unit_length();
        let mut dataset = Dataset {
            classes,
            strangers,
            labels: Vec::new(),
            photos: Vec::new(),
            primary: Vec::new(),
            embeddings: Vec::new(),
            probes: Vec::new(),
            stranger_of_photo: Vec::new(),
            stranger_people,
            embedder,
        };
        for (photo, sample) in samples.iter().enumerate() {
            let position = |names: &[String]| {
                names
                    .binary_search_by(|c| c.as_str().cmp(sample.name))
                    .expect("name listed") as u32
            };
            let (label, stranger) = if sample.stranger {
                (members, Some(position(&dataset.stranger_people)))
            } else {
                (position(&dataset.classes[..members as usize]), None)
            };
            let views = std::iter::once(sample.embedding)
                .chain(sample.mirror)
                .chain(sample.extra_views);
            for (view, embedding) in views.enumerate() {
                dataset.labels.push(label);
                dataset.photos.push(photo as u32);
                dataset.primary.push(view == 0);
                dataset.embeddings.push(embedding.clone());
            }
            dataset.probes.push(classifier::face_vector(
                sample.embedding,
                sample.mirror,
                unit,
            ));
            dataset.stranger_of_photo.push(stranger);
        }
        dataset
    }

    /// Rows (views).
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Photos.
    pub fn photo_count(&self) -> usize {
        self.probes.len()
    }

    /// Member classes (the strangers' class, when there is one, comes after them).
    pub fn members(&self) -> usize {
        self.classes.len() - self.strangers as usize
    }

    /// The strangers' class, when there is one.
    pub fn stranger_class(&self) -> Option<u32> {
        self.strangers.then_some(self.members() as u32)
    }

    /// Photos per class.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for (&label, &primary) in self.labels.iter().zip(&self.primary) {
            counts[label as usize] += primary as usize;
        }
        counts
    }

    /// The class of each photo.
    pub fn photo_labels(&self) -> Vec<u32> {
        let mut labels = vec![0; self.photo_count()];
        for (&photo, &label) in self.photos.iter().zip(&self.labels) {
            labels[photo as usize] = label;
        }
        labels
    }

    /// The rows of the photos `keep` selects (classes unchanged; photos numbered anew, in order).
    pub fn subset(&self, keep: impl Fn(u32) -> bool) -> Dataset {
        let rows: Vec<usize> = (0..self.len()).filter(|&i| keep(self.photos[i])).collect();
        self.rows_of(&rows, self.classes.clone(), self.strangers, |label| label)
    }

    /// The same rows without member class `dropped`, whose later classes move down one label.
    pub fn without_class(&self, dropped: u32) -> Dataset {
        let rows: Vec<usize> = (0..self.len())
            .filter(|&i| self.labels[i] != dropped)
            .collect();
        let classes = self
            .classes
            .iter()
            .enumerate()
            .filter(|&(c, _)| c as u32 != dropped)
            .map(|(_, name)| name.clone())
            .collect();
        let strangers = self.strangers && Some(dropped) != self.stranger_class();
        self.rows_of(&rows, classes, strangers, |label| {
            label - (label > dropped) as u32
        })
    }

    fn rows_of(
        &self,
        rows: &[usize],
        classes: Vec<String>,
        strangers: bool,
        relabel: impl Fn(u32) -> u32,
    ) -> Dataset {
        let mut renumbered: std::collections::HashMap<u32, u32> = Default::default();
        let mut kept_photos: Vec<u32> = Vec::new();
        let photos = rows
            .iter()
            .map(|&i| {
                let next = renumbered.len() as u32;
                *renumbered.entry(self.photos[i]).or_insert_with(|| {
                    kept_photos.push(self.photos[i]);
                    next
                })
            })
            .collect();
        Dataset {
            classes,
            strangers,
            labels: rows.iter().map(|&i| relabel(self.labels[i])).collect(),
            photos,
            primary: rows.iter().map(|&i| self.primary[i]).collect(),
            embeddings: rows.iter().map(|&i| self.embeddings[i].clone()).collect(),
            probes: kept_photos
                .iter()
                .map(|&p| self.probes[p as usize].clone())
                .collect(),
            stranger_of_photo: kept_photos
                .iter()
                .map(|&p| self.stranger_of_photo[p as usize])
                .collect(),
            stranger_people: self.stranger_people.clone(),
            embedder: self.embedder,
        }
    }

    /// Rows as `f64` vectors for the solver.
    pub fn rows(&self) -> Vec<Vec<f64>> {
        self.embeddings
            .iter()
            .map(|e| e.values().iter().map(|&v| v as f64).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: f32) -> Embedding {
        Embedding::new(vec![v; 4]).unwrap()
    }

    fn member<'a>(name: &'a str, embedding: &'a Embedding) -> Sample<'a> {
        Sample {
            name,
            stranger: false,
            embedding,
            mirror: None,
            extra_views: &[],
        }
    }

    #[test]
    fn views_share_their_photo_and_classes_can_be_dropped() {
        let (a, b, c) = (e(0.1), e(0.2), e(0.3));
        let grey = [e(0.15)];
        let mirror = e(0.12);
        let dataset = Dataset::new(
            [
                Sample {
                    mirror: Some(&mirror),
                    extra_views: &grey,
                    ..member("Sana", &a)
                },
                member("Mina", &b),
                member("Momo", &c),
            ],
            EmbedderKind::Dlib,
        );
        assert_eq!(dataset.classes, ["Mina", "Momo", "Sana"]);
        assert!(!dataset.strangers);
        assert_eq!(dataset.labels, [2, 2, 2, 0, 1]);
        assert_eq!(dataset.photos, [0, 0, 0, 1, 2]);
        assert_eq!(dataset.primary, [true, false, false, true, true]);
        assert_eq!(dataset.counts(), [1, 1, 1]);
        assert_eq!(dataset.photo_labels(), [2, 0, 1]);
        // The held-out probe is the photo pooled with its mirror image.
        assert!((dataset.probes[0].values()[0] - 0.11).abs() < 1e-6);
        let without_momo = dataset.without_class(1);
        assert_eq!(without_momo.classes, ["Mina", "Sana"]);
        assert_eq!(without_momo.labels, [1, 1, 1, 0]);
        assert_eq!(without_momo.probes.len(), 2);
        let subset = dataset.subset(|p| p != 0);
        assert_eq!(subset.len(), 2);
        assert_eq!(subset.photos, [0, 1], "photos are numbered anew");
        assert_eq!(subset.photo_labels(), [0, 1]);
        assert_eq!(subset.probes, [b.clone(), c.clone()]);
    }

    #[test]
    fn strangers_are_one_class_after_the_members_and_keep_who_they_are() {
        let (a, b, c, d) = (e(0.1), e(0.2), e(0.3), e(0.4));
        let stranger = |name, embedding| Sample {
            stranger: true,
            ..member(name, embedding)
        };
        let dataset = Dataset::new(
            [
                stranger("Irene", &a),
                member("Mina", &b),
                stranger("Jin", &c),
                stranger("Irene", &d),
            ],
            EmbedderKind::Dlib,
        );
        assert_eq!(dataset.classes, ["Mina", STRANGERS_CLASS]);
        assert_eq!((dataset.members(), dataset.stranger_class()), (1, Some(1)));
        assert_eq!(dataset.labels, [1, 0, 1, 1]);
        assert_eq!(dataset.stranger_people, ["Irene", "Jin"]);
        assert_eq!(dataset.stranger_of_photo, [Some(0), None, Some(1), Some(0)]);
        assert_eq!(dataset.counts(), [1, 3]);
        let no_irene = dataset.subset(|p| dataset.stranger_of_photo[p as usize] != Some(0));
        assert_eq!(no_irene.stranger_of_photo, [None, Some(1)]);
        assert!(no_irene.strangers);
    }
}
