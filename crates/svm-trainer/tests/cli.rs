//! `svm-trainer` on real embeddings the encoder makes from face_recognition's test photos (the
//! few-shot path), and on every kind of bad input.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use classifier::{decide, Decision, Predictor, Thresholds};
use facefile::format::encodings::{EncodeSettings, Encodings, EncodingsFile};
use facefile::format::model::{ClassifierFile, Method, RuleOrigin};
use facefile::{EmbedderKind, Stamped};
use testdata::command::{run_err, run_ok, run_usage_err};

fn trainer() -> Command {
    Command::cargo_bin("svm-trainer").unwrap()
}

/// Encodes `people` (name → fixture photos) with the real encoder and returns the encodings file.
fn encode(dir: &Path, people: &[(&str, &[&str])]) -> PathBuf {
    let data = dir.join("data");
    for (person, photos) in people {
        std::fs::create_dir_all(data.join(person)).unwrap();
        for photo in *photos {
            std::fs::copy(
                testdata::face_recognition_test_images().join(photo),
                data.join(person).join(photo),
            )
            .unwrap();
        }
    }
    let encodings = dir.join("encodings.msgpack");
    let encoder = assert_cmd::cargo::cargo_bin("encoder");
    let status = std::process::Command::new(encoder)
        .arg("-q")
        .arg("-d")
        .arg(&data)
        .arg("-f")
        .arg(&encodings)
        .env("FACE_MODELS_DIR", testdata::models_dir())
        .status()
        .unwrap();
    assert!(status.success());
    encodings
}

#[test]
fn few_shot_real_faces_fall_back_to_nearest_neighbour() {
    let dir = tempfile::tempdir().unwrap();
    let encodings = encode(
        dir.path(),
        &[
            ("obama", &["obama.jpg", "obama2.jpg"]),
            ("biden", &["biden.jpg"]),
        ],
    );
    let model_path = dir.path().join("model.msgpack");
    let report_path = dir.path().join("report.json");
    let out = run_ok(
        trainer()
            .arg("-i")
            .arg(&encodings)
            .arg("-o")
            .arg(&model_path)
            .arg("--report")
            .arg(&report_path),
    );
    assert!(out.contains("nearest neighbour"), "{out}");
    assert!(out.contains("biden has only 1 photo"), "{out}");

    let file = ClassifierFile::read(&model_path).unwrap();
    let model = &file.body;
    assert_eq!(model.classes, ["biden", "obama"]);
    assert!(matches!(model.method, Method::NearestNeighbour(_)));
    // The model records the embedding model of its training faces.
    assert_eq!(
        file.embedder,
        EncodingsFile::read(&encodings).unwrap().embedder
    );
    // Three photos are too few to learn a rule from, and the model says so.
    assert!(
        matches!(&model.rule.origin, RuleOrigin::Published { reason } if reason.contains("published")),
        "{:?}",
        model.rule
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["photos"], 3);
    assert_eq!(
        report["views"], 9,
        "each photo also trains with its mirror image and its grey view"
    );
    assert!(
        report["cross_validation"].is_null(),
        "one photo of Biden: nothing to cross-validate"
    );

    // A third, unseen photo of Obama is recognised.
    let unseen = encode(&dir.path().join("unseen"), &[("x", &["obama3.jpg"])]);
    let unseen = EncodingsFile::read(&unseen).unwrap();
    let (_, embedding) = unseen.body.embeddings().next().unwrap();
    let prediction = Predictor::new(model).predict(embedding);
    assert!((prediction.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    match decide(&prediction, &Thresholds::from_rule(&model.rule, None)) {
        Decision::Known { class, probability } => {
            assert_eq!(model.classes[class], "obama");
            assert!(probability > 0.9, "{probability}");
        }
        other => panic!("{other:?} ({prediction:?})"),
    }
}

fn write_csv(path: &Path, rows: &[(String, Vec<String>)]) {
    let text: String = rows
        .iter()
        .map(|(name, values)| format!("{name},{}\n", values.join(",")))
        .collect();
    std::fs::write(path, text).unwrap();
}

/// Rows around two well-separated centres, for the input checks (not for accuracy claims).
fn blob_rows(per_class: usize) -> Vec<(String, Vec<String>)> {
    let mut rows = Vec::new();
    for (class, centre) in [("Momo", 0.05f32), ("Sana", -0.05)] {
        for i in 0..per_class {
            let values = (0..128)
                .map(|d| (centre + ((i * 31 + d * 7) % 13) as f32 * 0.002).to_string())
                .collect();
            rows.push((class.to_string(), values));
        }
    }
    rows
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("e.csv");
    let model = dir.path().join("model.msgpack");
    let train = |csv: &Path| {
        let mut cmd = trainer();
        cmd.arg("-i").arg(csv).arg("-o").arg(&model);
        cmd
    };

    std::fs::write(&csv, b"").unwrap();
    assert!(run_err(&mut train(&csv)).contains("is empty"));

    write_csv(&csv, &blob_rows(6)[..6]);
    assert!(run_err(&mut train(&csv)).contains("only one person (Momo)"));

    let mut rows = blob_rows(6);
    rows[3].1[10] = "NaN".into();
    write_csv(&csv, &rows);
    let err = run_err(&mut train(&csv));
    assert!(
        err.contains("e.csv:4") && err.contains("column 12") && err.contains("finite"),
        "{err}"
    );

    let mut rows = blob_rows(6);
    rows[7].1.pop();
    write_csv(&csv, &rows);
    let err = run_err(&mut train(&csv));
    assert!(
        err.contains("e.csv:8") && err.contains("127 numbers"),
        "{err}"
    );

    let mut rows = blob_rows(6);
    rows[2].1[0] = "abc".into();
    write_csv(&csv, &rows);
    assert!(run_err(&mut train(&csv)).contains("\"abc\" is not a number"));
    assert!(!model.exists(), "no model is written on error");

    // One photo of a person is not an error: it is the few-shot path, and it is said.
    let mut rows = blob_rows(6);
    rows.truncate(7);
    write_csv(&csv, &rows);
    let out = run_ok(&mut train(&csv));
    assert!(out.contains("Sana has only 1 photo"), "{out}");

    // Encodings of an embedding model this build does not know are refused.
    let encodings = dir.path().join("foreign.msgpack");
    let mut embedder = EmbedderKind::Sface.id();
    embedder.files[0].sha256 = "0".repeat(64);
    let file: EncodingsFile = Stamped::new(
        "test",
        Some(embedder),
        Encodings {
            data_folders: Vec::new(),
            settings: EncodeSettings {
                analysis: Default::default(),
                multi_face: Default::default(),
                max_megapixels: 64,
                apply_exif_orientation: true,
                grey_views: true,
                mirror_views: true,
                small_views: true,
            },
            images: Vec::new(),
        },
    );
    file.write(&encodings).unwrap();
    let err = run_err(&mut train(&encodings));
    assert!(
        err.contains("does not know")
            && err.contains("000000000000")
            && err.contains("make encode"),
        "{err}"
    );

    // A byte-order mark (Excel's "CSV UTF-8") is not part of the first name.
    let mut text = String::from("\u{feff}");
    for (name, values) in blob_rows(6) {
        text.push_str(&format!("{name},{}\n", values.join(",")));
    }
    std::fs::write(&csv, text).unwrap();
    run_ok(train(&csv).arg("-q"));
    let classes = ClassifierFile::read(&model).unwrap().body.classes;
    assert_eq!(classes, ["Momo", "Sana"]);

    // No output may be an input, nor another output.
    for (flag, path) in [("-o", &csv), ("--report", &csv)] {
        let err = run_err(trainer().arg("-i").arg(&csv).arg(flag).arg(path));
        assert!(err.contains("destroy the input"), "{flag}: {err}");
    }
    let err = run_err(train(&csv).arg("--report").arg(&model));
    assert!(err.contains("same file"), "{err}");
    assert!(
        !std::fs::read(&csv).unwrap().is_empty(),
        "the input is intact"
    );

    // Out-of-range settings: a bad command line (exit 2) that says what the setting is.
    let err = run_usage_err(train(&csv).args(["--precision", "1.5"]));
    assert!(err.contains("--precision") && err.contains("98 %"), "{err}");
    assert!(run_usage_err(train(&csv).args(["-t", "2"])).contains("--threshold"));
    assert!(run_usage_err(train(&csv).args(["--c", "0"])).contains("positive"));
    assert!(run_usage_err(train(&csv).args(["--stranger-share", "1"])).contains("below 1"));
}

#[test]
fn model_of_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("e.csv");
    let model_path = dir.path().join("model.msgpack");
    write_csv(&csv, &blob_rows(8));
    run_ok(
        trainer()
            .arg("-i")
            .arg(&csv)
            .arg("-o")
            .arg(&model_path)
            .arg("-q"),
    );
    let mut model = ClassifierFile::read(&model_path).unwrap();
    model.version += 1;
    std::fs::write(&model_path, rmp_serde::to_vec_named(&model).unwrap()).unwrap();
    let err = ClassifierFile::read(&model_path).unwrap_err().to_string();
    assert!(
        err.contains("newer version") && err.contains("model.msgpack"),
        "{err}"
    );

    // A model is refused for faces of another embedder, with what to re-run.
    model.version -= 1;
    let err = model
        .require_embedder(
            &model_path,
            &EmbedderKind::Sface.id(),
            "encode and train again with --embedder sface",
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dlib (128-d)")
            && err.contains("sface (128-d)")
            && err.contains("train again"),
        "{err}"
    );
}

#[test]
fn confusion_plot_is_a_readable_png() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("e.csv");
    let plot = dir.path().join("confusion.png");
    let mut rows = blob_rows(8);
    // Hangul names must be drawable too.
    rows.iter_mut()
        .take(8)
        .for_each(|row| row.0 = "모모".to_string());
    write_csv(&csv, &rows);
    let out = run_ok(
        trainer()
            .arg("-i")
            .arg(&csv)
            .arg("-o")
            .arg(dir.path().join("m.msgpack"))
            .arg("--plot")
            .arg(&plot),
    );
    assert!(out.contains("confusion matrix →"), "{out}");
    let image = image::open(&plot).unwrap().to_rgb8();
    assert!(
        image.width() > 200 && image.height() > 200,
        "{:?}",
        image.dimensions()
    );
    // The diagonal cells are green (correct predictions), so some pixel is clearly green.
    let green = image
        .as_raw()
        .chunks_exact(3)
        .any(|p| p[1] as i32 - p[0] as i32 > 60 && p[1] as i32 - p[2] as i32 > 60);
    assert!(green, "no green diagonal cell");
    // Text was drawn: there are dark pixels.
    assert!(
        image
            .as_raw()
            .chunks_exact(3)
            .filter(|p| p[0] < 60 && p[1] < 60 && p[2] < 60)
            .count()
            > 100
    );

    // Without cross-validation there is nothing to plot: no empty picture, and it says so (the
    // model is still written: it is good to use, so `make all` goes on).
    let mut few = blob_rows(6);
    few.truncate(7);
    write_csv(&csv, &few);
    let output = trainer()
        .arg("-i")
        .arg(&csv)
        .arg("-o")
        .arg(dir.path().join("m2.msgpack"))
        .arg("--plot")
        .arg(dir.path().join("x.png"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("x.png is not drawn"), "{stderr}");
    assert!(!stdout.contains("confusion matrix →"), "{stdout}");
    assert!(!dir.path().join("x.png").exists());
    assert!(dir.path().join("m2.msgpack").exists());
}

/// A unit vector: `centre` (a person) plus noise of size `spread`, deterministic in `seed`.
fn face_near(centre: u64, seed: u64, spread: f32) -> facefile::Embedding {
    let value = |key: u64, d: usize| {
        let mut x = key
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(d as u64 * 0xbf58_476d_1ce4_e5b9);
        x ^= x >> 31;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 29;
        (x % 2001) as f32 / 1000.0 - 1.0
    };
    let values: Vec<f32> = (0..128)
        .map(|d| value(centre, d) + spread * value(seed ^ 0xfeed_u64.wrapping_mul(centre + 1), d))
        .collect();
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    facefile::Embedding::new(values.iter().map(|v| v / norm).collect()).unwrap()
}

/// An encodings file of `members` (name, centre, photos) and `strangers` (likewise); photos are
/// numbered from `first` (the same number of the same person is the same photo).
fn synthetic_encodings(
    path: &Path,
    members: &[(&str, u64, u64)],
    strangers: &[(&str, u64, u64)],
    first: u64,
) {
    use facefile::format::encodings::{EncodedFace, ImageRecord, Outcome, Role};
    let mut images = Vec::new();
    for (role, people) in [(Role::Member, members), (Role::Stranger, strangers)] {
        for &(name, centre, photos) in people {
            for i in first..first + photos {
                images.push(ImageRecord {
                    person: name.to_string(),
                    role,
                    path: format!("{name}/{i}.jpg"),
                    file_sha256: format!("{centre:032x}{i:032x}"),
                    file_size: 1,
                    outcome: Outcome::Encoded(EncodedFace {
                        bbox: facefile::BoundingBox::new(0, 0, 99, 99),
                        detection_score: 0.9,
                        landmarks: [facefile::Point { x: 0, y: 0 }; 5],
                        embedding: face_near(centre, i, 0.6),
                        extra_views: Vec::new(),
                        // The face as a small face shows it: the same person, blurred.
                        small_views: vec![face_near(centre, i + 2000, 0.9)],
                        mirror: Some(face_near(centre, i + 1000, 0.6)),
                        faces_found: 1,
                        image_width: 100,
                        image_height: 100,
                    }),
                });
            }
        }
    }
    let file: EncodingsFile = Stamped::new(
        "test",
        Some(EmbedderKind::Sface.id()),
        Encodings {
            data_folders: Vec::new(),
            settings: EncodeSettings {
                analysis: Default::default(),
                multi_face: Default::default(),
                max_megapixels: 64,
                apply_exif_orientation: true,
                grey_views: false,
                mirror_views: true,
                small_views: true,
            },
            images,
        },
    );
    file.write(path).unwrap();
}

#[test]
fn strangers_set_the_rule_and_people_it_never_saw_stay_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let encodings = dir.path().join("encodings.msgpack");
    let members = [("Momo", 1, 8), ("Sana", 2, 8), ("Mina", 3, 8)];
    let strangers: Vec<(&str, u64, u64)> = ["Irene", "Seulgi", "Jin", "Suga", "Rm", "V"]
        .iter()
        .enumerate()
        .map(|(i, &name)| (name, 10 + i as u64, 4))
        .collect();
    synthetic_encodings(&encodings, &members, &strangers, 0);
    // Photos it never saw: new photos of the members, and people in neither list.
    let test = dir.path().join("test.msgpack");
    let unseen: Vec<(&str, u64, u64)> = ["Karina", "Winter", "Yeji", "Ryujin"]
        .iter()
        .enumerate()
        .map(|(i, &name)| (name, 30 + i as u64, 5))
        .collect();
    synthetic_encodings(&test, &[("Momo", 1, 3), ("Sana", 2, 3)], &unseen, 100);
    let model_path = dir.path().join("model.msgpack");
    let report_path = dir.path().join("report.json");
    let out = run_ok(
        trainer()
            .arg("-i")
            .arg(&encodings)
            .arg("-o")
            .arg(&model_path)
            .arg("--report")
            .arg(&report_path)
            .arg("--test")
            .arg(&test),
    );
    assert!(
        out.contains("set on 24 photos of 6 people who are not members"),
        "{out}"
    );
    assert!(
        out.contains("(someone else)"),
        "the strangers' class is reported: {out}"
    );
    let model = ClassifierFile::read(&model_path).unwrap().body;
    assert_eq!(
        model.classes,
        ["Mina", "Momo", "Sana"],
        "strangers are no member"
    );
    let strangers_class = model.strangers.as_ref().expect("trained with strangers");
    assert_eq!((strangers_class.people, strangers_class.photos), (6, 24));
    assert_eq!(model.rule.max_distance, None, "no distance limit is needed");
    let RuleOrigin::Strangers(point) = &model.rule.origin else {
        panic!("{:?}", model.rule.origin)
    };
    assert_eq!(
        point.stranger_acceptance, 0.0,
        "fewer than 100: none may be named"
    );
    assert!(point.coverage > 0.9, "{point:?}");
    // The photos have small views: a second classifier, for small faces, with its own rule set
    // on the strangers the same way.
    let small = model.small_faces.as_ref().expect("a small-face classifier");
    assert_eq!(small.below_height, 64.0);
    assert_eq!(small.model.classes, model.classes);
    assert!(
        matches!(small.model.rule.origin, RuleOrigin::Strangers(_)),
        "{:?}",
        small.model.rule
    );
    assert!(
        small.model.training.len() > model.training.len(),
        "it also learned the small views"
    );
    assert!(
        out.contains("faces shorter than 64 px (group shots) are named by a second classifier"),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["rule"]["origin"], "strangers");
    assert_eq!(report["small_faces"]["rule"]["origin"], "strangers");
    let test = &report["test"];
    assert_eq!(
        (test["members"].as_u64(), test["strangers"].as_u64()),
        (Some(6), Some(20))
    );
    // (How unseen strangers fare is measured on real faces, in the second tier: random
    // directions say nothing about it.)
    assert!(test["coverage"].as_f64().unwrap() > 0.8, "{test}");
    assert_eq!(test["wrong"].as_f64(), Some(0.0), "{test}");

    // Too few strangers to set a rule on: left out, and said so.
    let few = dir.path().join("few.msgpack");
    synthetic_encodings(&few, &members, &strangers[..2], 0);
    let out = run_ok(trainer().arg("-i").arg(&few).arg("-o").arg(&model_path));
    assert!(out.contains("decision rule"), "{out}");
    let model = ClassifierFile::read(&model_path).unwrap().body;
    assert!(model.strangers.is_none());
    assert!(
        matches!(model.rule.origin, RuleOrigin::Learned(_)),
        "{:?}",
        model.rule
    );
}

#[test]
fn a_test_on_the_training_photos_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let encodings = dir.path().join("encodings.msgpack");
    synthetic_encodings(&encodings, &[("Momo", 1, 6), ("Sana", 2, 6)], &[], 0);
    let model = dir.path().join("model.msgpack");
    let err = run_err(
        trainer()
            .arg("-i")
            .arg(&encodings)
            .arg("-o")
            .arg(&model)
            .arg("--test")
            .arg(&encodings),
    );
    assert!(err.contains("also a training photo"), "{err}");
    assert!(!model.exists());
    // Partly overlapping: the copies are left out of the test, and said so.
    let test = dir.path().join("test.msgpack");
    synthetic_encodings(&test, &[("Momo", 1, 8)], &[], 0);
    let mut cmd = trainer();
    cmd.arg("-i")
        .arg(&encodings)
        .arg("-o")
        .arg(&model)
        .arg("--test")
        .arg(&test);
    let output = cmd.output().unwrap();
    assert!(output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("6 of the 8 photos") && err.contains("left out"),
        "{err}"
    );
}

#[test]
fn an_output_that_is_not_a_model_is_never_replaced_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let encodings = dir.path().join("encodings.msgpack");
    let other = dir.path().join("other-encodings.msgpack");
    synthetic_encodings(&encodings, &[("Momo", 1, 6), ("Sana", 2, 6)], &[], 0);
    synthetic_encodings(&other, &[("Momo", 3, 6), ("Sana", 4, 6)], &[], 0);
    let before = std::fs::read(&other).unwrap();
    let train_to = |output: &Path| {
        let mut cmd = trainer();
        cmd.arg("-q")
            .arg("-i")
            .arg(&encodings)
            .arg("-o")
            .arg(output);
        cmd
    };
    // Another encodings file given as -o by mistake: refused, kept as it was.
    let err = run_err(&mut train_to(&other));
    assert!(
        err.contains("would be replaced") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&other).unwrap(), before);
    // A model is replaced (training again is the usual case); anything with --force.
    let model = dir.path().join("model.msgpack");
    run_ok(&mut train_to(&model));
    run_ok(&mut train_to(&model));
    run_ok(train_to(&other).arg("--force"));
    assert!(ClassifierFile::read(&other).is_ok());
}

#[test]
fn everyone_keeps_her_colour_when_someone_is_added() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.msgpack");
    let train = |people: &[(&str, u64, u64)]| {
        let encodings = dir.path().join("encodings.msgpack");
        synthetic_encodings(&encodings, people, &[], 0);
        run_ok(
            trainer()
                .arg("-q")
                .arg("-i")
                .arg(&encodings)
                .arg("-o")
                .arg(&model),
        );
        let body = ClassifierFile::read(&model).unwrap().body;
        body.classes
            .into_iter()
            .zip(body.colours)
            .collect::<Vec<_>>()
    };
    let before = train(&[("Momo", 1, 6), ("Sana", 2, 6)]);
    assert_ne!(before[0].1, before[1].1);
    // Jihyo sorts first, so every class number moves; the colours stay with the names.
    let after = train(&[("Jihyo", 3, 6), ("Momo", 1, 6), ("Sana", 2, 6)]);
    assert_eq!(after[0].0, "Jihyo");
    assert_eq!(after[1..], before[..]);
    assert!(before.iter().all(|(_, c)| *c != after[0].1));
}
