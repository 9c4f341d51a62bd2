//! A bounded fuzz run over every file reader: valid files of each format, mutated thousands of
//! times (bytes flipped, cut, repeated, inserted) with a fixed seed. A reader may refuse a file,
//! with a message naming it, but must never panic, and whatever it accepts must write back.

use std::path::Path;

use facefile::format::clean_report::{Action, CleanReport, FileReport};
use facefile::format::encodings::{
    EncodeSettings, EncodedFace, Encodings, ImageRecord, Outcome, Rejection, Role,
};
use facefile::format::labels::{
    Candidate, FaceLabel, FrameLabels, Labels, TrackSummary, VideoInfo,
};
use facefile::format::manifest::{FailedUrl, Manifest, ManifestEntry};
use facefile::format::model::{
    Classifier, DecisionRule, Method, NearestNeighbourModel, OperatingPoint, PairModel, RuleOrigin,
    StrangerClass, StrangerPoint, SvmModel, TrainingFace, TrainingSummary,
};
use facefile::{AnalysisSettings, BoundingBox, EmbedderKind, Embedding, Format, Point, Stamped};

/// xorshift64*: a small, seeded generator (the run is the same every time).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            2 => out.truncate(rng.below(out.len() + 1)),
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + rng.below(16)).min(out.len());
                let piece = out[start..end].to_vec();
                let at = rng.below(out.len());
                out.splice(at..at, piece);
            }
            _ => {
                let at = rng.below(out.len() + 1);
                let special = [
                    0xc0, 0xc1, 0xcb, 0xdd, 0xdf, 0xff, 0x7f, 0x00, 0xdb, 0xc6, 0xda, 0xce,
                ][rng.below(12)];
                out.insert(at, special);
            }
        }
    }
    out
}

fn fuzz<T: Format + Clone + PartialEq + std::fmt::Debug>(
    name: &str,
    file: Stamped<T>,
    rounds: usize,
) {
    let valid = file.to_bytes().unwrap();
    assert_eq!(
        Stamped::<T>::from_bytes(Path::new(name), &valid).unwrap(),
        file
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..rounds {
        let bytes = mutate(&valid, &mut rng);
        match Stamped::<T>::from_bytes(Path::new(name), &bytes) {
            Ok(read) => {
                accepted += 1;
                let again = read.to_bytes().expect("an accepted file writes back");
                Stamped::<T>::from_bytes(Path::new(name), &again).expect("and reads again");
            }
            Err(error) => {
                refused += 1;
                assert!(error.to_string().contains(name), "{error}");
            }
        }
    }
    assert!(refused > 0, "{name}: {accepted} accepted, none refused");
}

/// A unit-length vector, as SFace makes.
fn embedding(seed: f32) -> Embedding {
    let values: Vec<f32> = (0..128)
        .map(|i| ((i as f32 + seed) * 0.37).sin() * 0.1)
        .collect();
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    Embedding::new(values.iter().map(|v| v / norm).collect()).unwrap()
}

const ROUNDS: usize = 3000;

#[test]
fn encodings_reader() {
    let face = EncodedFace {
        bbox: BoundingBox::new(1, 2, 30, 40),
        detection_score: 0.9,
        landmarks: [Point { x: 3, y: 4 }; 5],
        embedding: embedding(1.0),
        extra_views: vec![embedding(2.0)],
        small_views: vec![embedding(3.0)],
        mirror: Some(embedding(3.0)),
        faces_found: 1,
        image_width: 100,
        image_height: 90,
    };
    let file = Stamped::new(
        "encoder test",
        Some(EmbedderKind::Sface.id()),
        Encodings {
            data_folders: Vec::new(),
            settings: EncodeSettings {
                analysis: AnalysisSettings::default(),
                multi_face: Default::default(),
                max_megapixels: 64,
                apply_exif_orientation: true,
                grey_views: true,
                mirror_views: true,
                small_views: true,
            },
            images: vec![
                ImageRecord {
                    person: "나연".into(),
                    role: Role::Member,
                    path: "나연/a.jpg".into(),
                    file_sha256: "ab".repeat(32),
                    file_size: 10,
                    outcome: Outcome::Encoded(face),
                },
                ImageRecord {
                    person: "Mina".into(),
                    role: Role::Member,
                    path: "Mina/b.png".into(),
                    file_sha256: "cd".repeat(32),
                    file_size: 3,
                    outcome: Outcome::Rejected(Rejection::Unreadable {
                        message: "x".into(),
                    }),
                },
            ],
        },
    );
    fuzz("encodings.msgpack", file, ROUNDS);
}

#[test]
fn model_reader() {
    let rule = DecisionRule {
        min_probability: 0.4,
        max_distance: Some(1.0),
        split_distance: 1.1,
        origin: RuleOrigin::Learned(OperatingPoint {
            precision_target: 0.98,
            coverage: 0.9,
            precision: 0.99,
            stranger_acceptance: 0.01,
            members: 100,
            strangers: 100,
        }),
    };
    let svm = Stamped::new(
        "svm-trainer test",
        Some(EmbedderKind::Sface.id()),
        Classifier {
            classes: vec!["Mina".into(), "Sana".into()],
            strangers: None,
            method: Method::Svm(SvmModel {
                c: 1.0,
                pairs: vec![PairModel {
                    first: 0,
                    second: 1,
                    weights: vec![0.01; 128],
                    bias: 0.1,
                    platt_a: -2.0,
                    platt_b: 0.1,
                }],
            }),
            training: vec![
                TrainingFace {
                    class: 0,
                    embedding: embedding(1.0),
                },
                TrainingFace {
                    class: 1,
                    embedding: embedding(5.0),
                },
            ],
            rule: rule.clone(),
            summary: TrainingSummary::default(),
            colours: Vec::new(),
            small_faces: None,
        },
    );
    fuzz("model.msgpack", svm.clone(), ROUNDS);
    let mut nn = svm;
    nn.body.method = Method::NearestNeighbour(NearestNeighbourModel {
        temperature: 0.05,
        reason: "few photos".into(),
    });
    fuzz("nn-model.msgpack", nn, ROUNDS);
}

/// A model of three members and strangers: four classes, six pairs.
fn four_class_model() -> Stamped<Classifier> {
    let pairs = (0..4u32)
        .flat_map(|first| ((first + 1)..4).map(move |second| (first, second)))
        .map(|(first, second)| PairModel {
            first,
            second,
            weights: vec![0.01 * (first + 2 * second) as f64; 128],
            bias: 0.1,
            platt_a: -2.0,
            platt_b: 0.1,
        })
        .collect();
    Stamped::new(
        "svm-trainer test",
        Some(EmbedderKind::Sface.id()),
        Classifier {
            classes: vec!["Mina".into(), "Momo".into(), "Sana".into()],
            strangers: Some(StrangerClass {
                people: 2,
                photos: 5,
            }),
            method: Method::Svm(SvmModel { c: 1.0, pairs }),
            training: (0..4)
                .map(|class| TrainingFace {
                    class,
                    embedding: embedding(class as f32),
                })
                .collect(),
            rule: DecisionRule {
                min_probability: 0.3,
                max_distance: None,
                split_distance: 1.1,
                origin: RuleOrigin::Strangers(StrangerPoint {
                    share_target: 0.01,
                    strangers: 5,
                    people: 2,
                    stranger_acceptance: 0.0,
                    members: 9,
                    coverage: 0.9,
                    wrong: 0.0,
                }),
            },
            summary: TrainingSummary::default(),
            colours: Vec::new(),
            small_faces: None,
        },
    )
}

#[test]
fn model_with_strangers_reader() {
    fuzz("strangers-model.msgpack", four_class_model(), ROUNDS);
}

/// The pair list, mutated the way a flipped bit or a hand edit would (a class number changed,
/// two classes swapped, a pair copied over another): every model that is accepted compares each
/// unordered pair of classes exactly once, the smaller first.
#[test]
fn model_pair_lists() {
    let valid = four_class_model();
    let n = valid.body.class_count() as u32;
    let mut rng = Rng(0x005e_ed0f_9a1e);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..ROUNDS {
        let mut model = valid.clone();
        let Method::Svm(svm) = &mut model.body.method else {
            unreachable!()
        };
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(svm.pairs.len());
            match rng.below(4) {
                0 => svm.pairs[i].first = rng.below(n as usize + 1) as u32,
                1 => svm.pairs[i].second = rng.below(n as usize + 1) as u32,
                2 => {
                    let pair = &mut svm.pairs[i];
                    std::mem::swap(&mut pair.first, &mut pair.second);
                }
                _ => {
                    let j = rng.below(svm.pairs.len());
                    svm.pairs[i] = svm.pairs[j].clone();
                }
            }
        }
        let bytes = model.to_bytes().unwrap();
        match Stamped::<Classifier>::from_bytes(Path::new("pairs.msgpack"), &bytes) {
            Ok(read) => {
                accepted += 1;
                let Method::Svm(svm) = &read.body.method else {
                    unreachable!()
                };
                let mut seen: Vec<(u32, u32)> =
                    svm.pairs.iter().map(|p| (p.first, p.second)).collect();
                seen.sort_unstable();
                let all: Vec<(u32, u32)> = (0..n)
                    .flat_map(|a| ((a + 1)..n).map(move |b| (a, b)))
                    .collect();
                assert_eq!(seen, all, "an accepted pair list must hold every pair once");
            }
            Err(error) => {
                refused += 1;
                assert!(error.to_string().contains("pairs.msgpack"), "{error}");
            }
        }
    }
    assert!(
        refused > ROUNDS / 2,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn labels_reader() {
    let file = Stamped::new(
        "video-labeler test",
        Some(EmbedderKind::Dlib.id()),
        Labels {
            video: VideoInfo {
                path: "clip.mp4".into(),
                width: 640,
                height: 360,
                fps: 29.97,
                frames: 2,
                rotation: 90,
            },
            classes: vec!["Mina".into()],
            min_probability: 0.4,
            max_distance: Some(0.9),
            small_faces: None,
            frames: (0..2)
                .map(|index| FrameLabels {
                    index,
                    time: index as f64 / 30.0,
                    faces: vec![FaceLabel {
                        bbox: BoundingBox::new(1, 2, 3, 4),
                        track: 0,
                        name: Some("Mina".into()),
                        probability: 0.8,
                    }],
                })
                .collect(),
            tracks: vec![TrackSummary {
                id: 0,
                first_frame: 0,
                last_frame: 1,
                name: None,
                probability: 0.3,
                distance: 1.2,
                faces: 2,
                candidates: vec![Candidate {
                    name: "Mina".into(),
                    probability: 0.3,
                }],
                unknown_reason: Some("too far".into()),
                lost_to_another: None,
                face_height: 30.0,
                small_face: true,
            }],
            cuts: vec![0],
        },
    );
    fuzz("labels.msgpack", file, ROUNDS);
}

#[test]
fn manifest_and_clean_report_readers() {
    let mut manifest = Manifest::new("Mina", "TWICE Mina");
    manifest.entries.push(ManifestEntry {
        file: "0123456789abcdef.jpg".into(),
        url: "https://upload.wikimedia.org/a.jpg".into(),
        source: "wikimedia".into(),
        page: Some("https://commons.wikimedia.org/wiki/File:A.jpg".into()),
        licence: Some("CC BY-SA 4.0".into()),
        author: Some("someone".into()),
        title: None,
        sha256: "ef".repeat(32),
        size: 1234,
    });
    manifest.failed.push(FailedUrl {
        url: "https://x/y.jpg".into(),
        source: "bing".into(),
        reason: "404".into(),
        permanent: true,
    });
    fuzz(
        "manifest.msgpack",
        Stamped::new("downloader test", None, manifest),
        ROUNDS,
    );
    let report = CleanReport {
        data_dir: "data".into(),
        dry_run: false,
        deleted_instead_of_quarantined: false,
        face_checks: Some(AnalysisSettings::default()),
        people: Default::default(),
        files: vec![FileReport {
            person: "Mina".into(),
            path: "Mina/a.png".into(),
            sha256: "00".repeat(32),
            size: 9,
            format: Some("PNG".into()),
            faces: Some(1),
            action: Action::Quarantine {
                reason: "no face found".into(),
            },
            repair: None,
            flags: vec!["near duplicate".into()],
            now_at: Some(".quarantine/Mina/a.png".into()),
        }],
        inspect_seconds: 1.5,
        files_per_second: 10.0,
    };
    fuzz(
        "clean-report.msgpack",
        Stamped::new("cleaner test", Some(EmbedderKind::Sface.id()), report),
        ROUNDS,
    );
}
