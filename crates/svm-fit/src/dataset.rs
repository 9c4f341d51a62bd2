//! Labelled embeddings. A photo may come with extra views (its grey version): they are trained on
//! like any face, but a photo and its views always fall in the same fold, and only the photo's own
//! embedding is scored, so no held-out face has a copy of itself in training.

use facefile::{EmbedderKind, Embedding};

/// One photo's embeddings.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub embedding: &'a Embedding,
    pub extra_views: &'a [Embedding],
}

/// Labelled embeddings, one row per view.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Class names (people), sorted.
    pub classes: Vec<String>,
    pub labels: Vec<u32>,
    /// The photo each row belongs to (0..photos).
    pub photos: Vec<u32>,
    /// Whether the row is the photo's own embedding (not an extra view).
    pub primary: Vec<bool>,
    pub embeddings: Vec<Embedding>,
    /// The embedding model behind the vectors.
    pub embedder: EmbedderKind,
}

impl Dataset {
    /// Classes are sorted by name; photos are numbered in the order given.
    pub fn new<'a>(
        samples: impl IntoIterator<Item = Sample<'a>>,
        embedder: EmbedderKind,
    ) -> Dataset {
        let samples: Vec<Sample> = samples.into_iter().collect();
        let mut classes: Vec<String> = samples.iter().map(|s| s.name.to_string()).collect();
        classes.sort();
        classes.dedup();
        let mut dataset = Dataset {
            classes,
            labels: Vec::new(),
            photos: Vec::new(),
            primary: Vec::new(),
            embeddings: Vec::new(),
            embedder,
        };
        for (photo, sample) in samples.iter().enumerate() {
            let label = dataset
                .classes
                .binary_search_by(|c| c.as_str().cmp(sample.name))
                .expect("class listed") as u32;
            for (view, embedding) in std::iter::once(sample.embedding)
                .chain(sample.extra_views)
                .enumerate()
            {
                dataset.labels.push(label);
                dataset.photos.push(photo as u32);
                dataset.primary.push(view == 0);
                dataset.embeddings.push(embedding.clone());
            }
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
        self.photos
            .iter()
            .map(|&p| p as usize + 1)
            .max()
            .unwrap_or(0)
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
        self.rows_of(&rows, self.classes.clone(), |label| label)
    }

    /// The same rows without class `dropped`, whose later classes move down one label.
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
        self.rows_of(&rows, classes, |label| label - (label > dropped) as u32)
    }

    fn rows_of(
        &self,
        rows: &[usize],
        classes: Vec<String>,
        relabel: impl Fn(u32) -> u32,
    ) -> Dataset {
        let mut renumbered: std::collections::HashMap<u32, u32> = Default::default();
        let photos = rows
            .iter()
            .map(|&i| {
                let next = renumbered.len() as u32;
                *renumbered.entry(self.photos[i]).or_insert(next)
            })
            .collect();
        Dataset {
            classes,
            labels: rows.iter().map(|&i| relabel(self.labels[i])).collect(),
            photos,
            primary: rows.iter().map(|&i| self.primary[i]).collect(),
            embeddings: rows.iter().map(|&i| self.embeddings[i].clone()).collect(),
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

    #[test]
    fn views_share_their_photo_and_classes_can_be_dropped() {
        let e = |v: f32| Embedding::new(vec![v; 4]).unwrap();
        let (a, b, c) = (e(0.1), e(0.2), e(0.3));
        let grey = [e(0.15)];
        let dataset = Dataset::new(
            [
                Sample {
                    name: "Sana",
                    embedding: &a,
                    extra_views: &grey,
                },
                Sample {
                    name: "Mina",
                    embedding: &b,
                    extra_views: &[],
                },
                Sample {
                    name: "Momo",
                    embedding: &c,
                    extra_views: &[],
                },
            ],
            EmbedderKind::Sface,
        );
        assert_eq!(dataset.classes, ["Mina", "Momo", "Sana"]);
        assert_eq!(dataset.labels, [2, 2, 0, 1]);
        assert_eq!(dataset.photos, [0, 0, 1, 2]);
        assert_eq!(dataset.primary, [true, false, true, true]);
        assert_eq!(dataset.counts(), [1, 1, 1]);
        assert_eq!(dataset.photo_labels(), [2, 0, 1]);
        let without_momo = dataset.without_class(1);
        assert_eq!(without_momo.classes, ["Mina", "Sana"]);
        assert_eq!(without_momo.labels, [1, 1, 0]);
        let subset = dataset.subset(|p| p != 0);
        assert_eq!(subset.len(), 2);
        assert_eq!(subset.photos, [0, 1], "photos are numbered anew");
        assert_eq!(subset.photo_labels(), [0, 1]);
    }
}
