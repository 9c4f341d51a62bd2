//! The anchor face filter: a download is kept only if its main face is the person's.
//!
//! Full-text image search brings group shots led by another member, other members, fan art and
//! look-alikes, whatever the source. The filter compares each download's dominant face with an
//! *anchor*: the person's Wikidata portrait (P18) and the user's own photos when there are any,
//! joined by the first downloads that agree with them; without either, the first downloads that
//! agree with each other. A download is kept when its face lies within a distance of the anchor's
//! mean face *learned from the anchor's own photos* — 1.1 × the farthest anchor photo's distance to
//! the mean of the others — and never beyond the embedding model's published same-person distance.
//! dlib's 0.6 does not separate TWICE members (97 % of different-member pairs are within it);
//! a spread learned from the person's photos does.
//!
//! On the TWICE development photos (`make eval` data, SFace), simulating a download stream of which
//! half are other members, this rule kept 94 % of the person's photos at 99.3 % precision with a
//! portrait, and 91 % at 98.4 % without one; the tier-2 test measures it on real files.

use facecore::{DecodeOptions, ExamineOptions, FaceAnalyzer, RgbImage};
use facefile::{EmbedderKind, Embedding, MultiFacePolicy};

/// Downloads held back until the anchor forms (when it needs downloads to form).
pub const FORMING_BATCH: usize = 10;
/// Photos in the anchor at most: enough to learn the spread, few enough that an early mistake
/// cannot drag the mean away.
pub const MAX_ANCHOR_PHOTOS: usize = 5;
/// Photos needed to learn a limit; below it the published distance is used, and said so.
pub const MIN_ANCHOR_PHOTOS: usize = 3;
/// The limit is this multiple of the farthest anchor photo's distance to the others' mean.
pub const SPREAD_MARGIN: f32 = 1.1;

/// What one download's face turned out to be.
#[derive(Debug, Clone)]
pub enum Looked {
    /// The photo's subject, embedded.
    Face(Embedding),
    /// Why it has no usable subject (no face, several faces and none dominant, unreadable).
    Unusable(String),
}

/// Finds a photo's dominant face, as the encoder will (same detector, embedder and policy).
pub struct FaceReader {
    analyzer: FaceAnalyzer,
    options: ExamineOptions,
    embedder: EmbedderKind,
}

impl FaceReader {
    /// A reader that keeps, as the encoder does by default, the dominant face of a photo.
    pub fn new(analyzer: FaceAnalyzer) -> FaceReader {
        let embedder = analyzer.settings().embedder;
        FaceReader {
            analyzer,
            options: ExamineOptions {
                decode: FaceReader::decode_options(),
                policy: MultiFacePolicy::Dominant,
                views: facecore::Views::NONE,
            },
            embedder,
        }
    }

    /// How photos are decoded for the reader (the encoder's defaults: EXIF orientation applied,
    /// the same size limit).
    pub fn decode_options() -> DecodeOptions {
        DecodeOptions::default()
    }

    pub fn embedder(&self) -> EmbedderKind {
        self.embedder
    }

    /// The dominant face of a photo's bytes (the user's own photos, read from disk).
    pub fn look_at_bytes(&mut self, bytes: &[u8]) -> Looked {
        match facecore::decode_bytes(bytes, &self.options.decode) {
            Ok(decoded) => self.look(decoded.image),
            Err(error) => Looked::Unusable(format!("not a usable image: {error}")),
        }
    }

    /// The dominant face of a decoded photo (downloads arrive decoded by the workers).
    pub fn look(&mut self, image: RgbImage) -> Looked {
        let faces = facecore::photo::find_faces(image, &mut self.analyzer, &self.options);
        if let Some(error) = faces.error {
            return Looked::Unusable(format!("face analysis failed: {error}"));
        }
        match faces.subject {
            Some(face) => Looked::Face(face.embedding),
            None if faces.count == 0 => Looked::Unusable("no face found".into()),
            None => Looked::Unusable(format!(
                "{} faces and none clearly the main one (a group photo)",
                faces.count
            )),
        }
    }
}

/// The face reader, loaded on first use: a folder that needs no download needs no model.
pub struct LazyFaceReader {
    make: Option<Box<dyn FnOnce() -> anyhow::Result<FaceReader>>>,
    reader: Option<FaceReader>,
}

impl LazyFaceReader {
    /// No face checks (`--no-anchor`).
    pub fn off() -> LazyFaceReader {
        LazyFaceReader {
            make: None,
            reader: None,
        }
    }

    pub fn new(make: impl FnOnce() -> anyhow::Result<FaceReader> + 'static) -> LazyFaceReader {
        LazyFaceReader {
            make: Some(Box::new(make)),
            reader: None,
        }
    }

    pub fn enabled(&self) -> bool {
        self.make.is_some() || self.reader.is_some()
    }

    /// The reader (loading it the first time), or `None` when face checks are off.
    pub fn get(&mut self) -> anyhow::Result<Option<&mut FaceReader>> {
        if let Some(make) = self.make.take() {
            self.reader = Some(make()?);
        }
        Ok(self.reader.as_mut())
    }
}

/// Whether a download is the person.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Kept; its distance to the anchor's mean face.
    Keep { distance: f32 },
    /// Sent to the quarantine, with why.
    Reject { reason: String },
}

/// How the anchor came to be, for the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorSummary {
    /// Trusted photos (portrait, own photos) in it.
    pub trusted: usize,
    /// Downloads that joined it by agreeing.
    pub agreeing: usize,
    pub limit: f32,
    /// Whether the limit was learned (else the published distance, from too few photos).
    pub learned: bool,
}

/// The anchor and the downloads waiting for it. `T` is whatever the caller needs back with each
/// verdict (the bytes and where they came from).
pub struct AnchorFilter<T> {
    published: f32,
    unit: bool,
    /// Faces known to be the person's.
    trusted: Vec<Embedding>,
    /// Set once the anchor has formed.
    formed: Option<Formed>,
    waiting: Vec<(T, Embedding)>,
}

#[derive(Debug, Clone)]
struct Formed {
    mean: Embedding,
    limit: f32,
    summary: AnchorSummary,
}

impl<T> AnchorFilter<T> {
    pub fn new(embedder: EmbedderKind) -> AnchorFilter<T> {
        AnchorFilter {
            published: embedder.published_same_person_distance(),
            unit: embedder.unit_length(),
            trusted: Vec::new(),
            formed: None,
            waiting: Vec::new(),
        }
    }

    /// Adds a photo known to be the person (the portrait, the user's own photos). Only before the
    /// first [`AnchorFilter::offer`].
    pub fn trust(&mut self, embedding: Embedding) {
        debug_assert!(self.formed.is_none());
        self.trusted.push(embedding);
    }

    pub fn trusted(&self) -> usize {
        self.trusted.len()
    }

    pub fn summary(&self) -> Option<&AnchorSummary> {
        self.formed.as_ref().map(|f| &f.summary)
    }

    /// Downloads held until the anchor forms.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Offers a download's face; returns the downloads decided now (none while the anchor is
    /// still forming, a whole batch when it forms).
    pub fn offer(&mut self, item: T, face: Embedding) -> Vec<(T, Verdict)> {
        if let Some(formed) = &self.formed {
            let verdict = judge(formed, &face);
            return vec![(item, verdict)];
        }
        self.waiting.push((item, face));
        // Enough trusted photos need no downloads to form; otherwise wait for a batch.
        if self.trusted.len() >= MIN_ANCHOR_PHOTOS || self.waiting.len() >= FORMING_BATCH {
            self.form()
        } else {
            Vec::new()
        }
    }

    /// Decides whatever is still waiting (at the end of the downloads).
    pub fn finish(&mut self) -> Vec<(T, Verdict)> {
        if self.formed.is_none() && (!self.waiting.is_empty() || !self.trusted.is_empty()) {
            return self.form();
        }
        Vec::new()
    }

    /// Forms the anchor from the trusted photos and the waiting downloads that agree with them
    /// (or, with nothing trusted, with each other), then judges everything waiting.
    fn form(&mut self) -> Vec<(T, Verdict)> {
        let waiting = std::mem::take(&mut self.waiting);
        let faces: Vec<&Embedding> = waiting.iter().map(|(_, face)| face).collect();
        let mut anchor: Vec<Embedding> = self.trusted.clone();
        let mut joined: Vec<usize> = Vec::new();
        if anchor.len() < MAX_ANCHOR_PHOTOS {
            let order: Vec<usize> = if anchor.is_empty() {
                // No portrait: start from the download most others agree with, the closest
                // to them on a tie (the centre of the group, not a look-alike at its edge).
                let closeness = |i: usize| {
                    let near: Vec<f32> = faces
                        .iter()
                        .map(|other| faces[i].distance(other))
                        .filter(|&d| d <= self.published)
                        .collect();
                    (near.len(), -near.iter().sum::<f32>() / near.len() as f32)
                };
                let Some(seed) = (0..faces.len()).max_by(|&a, &b| {
                    let (ca, da) = closeness(a);
                    let (cb, db) = closeness(b);
                    ca.cmp(&cb).then(da.total_cmp(&db))
                }) else {
                    return Vec::new();
                };
                anchor.push(faces[seed].clone());
                joined.push(seed);
                let mut rest: Vec<usize> = (0..faces.len()).filter(|&i| i != seed).collect();
                rest.sort_by(|&a, &b| {
                    faces[seed]
                        .distance(faces[a])
                        .total_cmp(&faces[seed].distance(faces[b]))
                });
                rest
            } else {
                let mean = self.mean(&anchor);
                let mut all: Vec<usize> = (0..faces.len()).collect();
                all.sort_by(|&a, &b| mean.distance(faces[a]).total_cmp(&mean.distance(faces[b])));
                all
            };
            for index in order {
                if anchor.len() >= MAX_ANCHOR_PHOTOS {
                    break;
                }
                // Agreeing means within the published distance of every anchor photo, not just
                // of their mean: one look-alike cannot slip in on the strength of the others.
                if anchor
                    .iter()
                    .all(|a| a.distance(faces[index]) <= self.published)
                {
                    anchor.push(faces[index].clone());
                    joined.push(index);
                }
            }
        }
        let without_portrait = self.trusted.is_empty();
        let mean = self.mean(&anchor);
        let (limit, learned) = if anchor.len() >= MIN_ANCHOR_PHOTOS {
            (self.learned_limit(&anchor), true)
        } else {
            (self.published, false)
        };
        let formed = Formed {
            mean,
            limit,
            summary: AnchorSummary {
                trusted: self.trusted.len(),
                agreeing: joined.len(),
                limit,
                learned,
            },
        };
        let verdicts = waiting
            .into_iter()
            .enumerate()
            .map(|(index, (item, face))| {
                // With nothing trusted, photos that did not join a 3-photo anchor cannot be
                // judged against two or fewer strangers to each other: keep them, the summary
                // says the folder is unfiltered.
                if without_portrait && !learned {
                    let distance = formed.mean.distance(&face);
                    return (item, Verdict::Keep { distance });
                }
                let verdict = if joined.contains(&index) {
                    Verdict::Keep {
                        distance: formed.mean.distance(&face),
                    }
                } else {
                    judge(&formed, &face)
                };
                (item, verdict)
            })
            .collect();
        self.formed = Some(formed);
        verdicts
    }

    fn mean(&self, photos: &[Embedding]) -> Embedding {
        Embedding::weighted_mean(photos.iter().map(|e| (e, 1.0)), self.unit)
            .expect("an anchor has at least one photo")
    }

    /// SPREAD_MARGIN × the farthest photo's distance to the mean of the others, capped at the
    /// published distance.
    fn learned_limit(&self, photos: &[Embedding]) -> f32 {
        let farthest = (0..photos.len())
            .map(|i| {
                let others: Vec<Embedding> = photos
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, e)| e.clone())
                    .collect();
                self.mean(&others).distance(&photos[i])
            })
            .fold(0f32, f32::max);
        (farthest * SPREAD_MARGIN).min(self.published)
    }
}

fn judge(formed: &Formed, face: &Embedding) -> Verdict {
    let distance = formed.mean.distance(face);
    if distance <= formed.limit {
        Verdict::Keep { distance }
    } else {
        Verdict::Reject {
            reason: format!(
                "not the same person as the anchor photos: face {distance:.3} from their mean, \
                 limit {:.3}",
                formed.limit
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face of the person whose centre is `centre`: the centre turned 30° towards a direction
    /// of its own (seeded), as photos of one person scatter around their mean on SFace's sphere.
    fn face(centre: &[(usize, f32)], seed: u64) -> Embedding {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut noise = vec![0f32; 128];
        for value in noise.iter_mut().skip(10) {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            *value = ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5;
        }
        let norm = noise.iter().map(|v| v * v).sum::<f32>().sqrt();
        let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        let mut v: Vec<f32> = noise.iter().map(|n| n / norm * s).collect();
        for &(axis, weight) in centre {
            v[axis] += weight * c;
        }
        Embedding::new(v).unwrap()
    }

    const HER: &[(usize, f32)] = &[(0, 1.0)];
    /// 35° from her: within the published distance of any of her photos.
    const LOOK_ALIKE: &[(usize, f32)] = &[(0, 0.819), (1, 0.574)];
    const OTHER: &[(usize, f32)] = &[(2, 1.0)];

    #[test]
    fn a_portrait_and_agreeing_downloads_form_the_anchor_and_learn_a_limit() {
        let published = EmbedderKind::Sface.published_same_person_distance();
        assert!(face(HER, 1).distance(&face(LOOK_ALIKE, 2)) < published);
        let mut filter = AnchorFilter::<String>::new(EmbedderKind::Sface);
        filter.trust(face(HER, 0));
        let mut decided = Vec::new();
        let stream = [
            HER, LOOK_ALIKE, HER, OTHER, HER, HER, LOOK_ALIKE, HER, HER, HER,
        ];
        for (i, centre) in stream.iter().enumerate() {
            let name = format!("{}-{i}", if *centre == HER { "her" } else { "not" });
            decided.extend(filter.offer(name, face(centre, 100 + i as u64)));
        }
        assert_eq!(decided.len(), 10, "the batch is decided when it is full");
        let summary = filter.summary().unwrap().clone();
        assert!(summary.learned);
        assert_eq!((summary.trusted, summary.agreeing), (1, 4));
        assert!(summary.limit < published);
        for (name, verdict) in decided {
            let kept = matches!(verdict, Verdict::Keep { .. });
            assert_eq!(kept, name.starts_with("her"), "{name}: {verdict:?}");
        }
        // Later downloads are judged one by one against the same anchor.
        assert!(matches!(
            filter.offer("her".into(), face(HER, 50))[0].1,
            Verdict::Keep { .. }
        ));
        assert!(matches!(
            filter.offer("not".into(), face(LOOK_ALIKE, 51))[0].1,
            Verdict::Reject { .. }
        ));
    }

    #[test]
    fn without_a_portrait_the_largest_agreeing_group_is_the_anchor() {
        let mut filter = AnchorFilter::<bool>::new(EmbedderKind::Sface);
        let stream = [OTHER, HER, HER, LOOK_ALIKE, HER, HER, OTHER, HER, HER, HER];
        let mut decided = Vec::new();
        for (i, centre) in stream.iter().enumerate() {
            decided.extend(filter.offer(*centre == HER, face(centre, i as u64)));
        }
        assert_eq!(decided.len(), stream.len());
        for (is_her, verdict) in decided {
            assert_eq!(
                matches!(verdict, Verdict::Keep { .. }),
                is_her,
                "{verdict:?}"
            );
        }
        assert_eq!(filter.summary().unwrap().trusted, 0);
    }

    #[test]
    fn enough_trusted_photos_decide_at_once_and_too_few_fall_back_to_the_published_distance() {
        let mut filter = AnchorFilter::<()>::new(EmbedderKind::Sface);
        for seed in 0..3 {
            filter.trust(face(HER, seed));
        }
        assert_eq!(filter.offer((), face(HER, 9)).len(), 1);

        let mut few = AnchorFilter::<u8>::new(EmbedderKind::Sface);
        few.trust(face(HER, 0));
        assert!(few.offer(1, face(LOOK_ALIKE, 1)).is_empty());
        let decided = few.finish();
        assert_eq!(decided.len(), 1);
        let summary = few.summary().unwrap();
        assert!(!summary.learned);
        assert_eq!(
            summary.limit,
            EmbedderKind::Sface.published_same_person_distance()
        );
    }
}
