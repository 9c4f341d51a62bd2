//! `svm-trainer` on real embeddings the encoder makes from face_recognition's test photos (the
//! few-shot path), and on every kind of bad input.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use classifier::{decide, Decision, Predictor, Thresholds};
use facefile::format::encodings::{EncodeSettings, Encodings, EncodingsFile};
use facefile::format::model::{ClassifierFile, Method, RuleOrigin};
use facefile::{EmbedderKind, Stamped};
use testdata::command::{run_err, run_ok};

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
        report["views"], 6,
        "each photo also trains with its grey view"
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
            settings: EncodeSettings {
                analysis: Default::default(),
                multi_face: Default::default(),
                max_megapixels: 64,
                apply_exif_orientation: true,
                grey_views: true,
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

    // Out-of-range settings.
    assert!(run_err(train(&csv).args(["--precision", "1.5"])).contains("--precision"));
    assert!(run_err(train(&csv).args(["-t", "2"])).contains("--threshold"));
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

    // Without cross-validation there is nothing to plot: a clear error, not an empty picture.
    let mut few = blob_rows(6);
    few.truncate(7);
    write_csv(&csv, &few);
    let err = run_err(
        trainer()
            .arg("-i")
            .arg(&csv)
            .arg("-o")
            .arg(dir.path().join("m2.msgpack"))
            .arg("--plot")
            .arg(dir.path().join("x.png")),
    );
    assert!(err.contains("no confusion matrix"), "{err}");
}
