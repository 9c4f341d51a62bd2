//! `svm-trainer` on real embeddings the encoder makes from face_recognition's test photos (the
//! few-shot path), and on every kind of bad input.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use facecore::classify::Method;
use facecore::{ClassifierFile, Decision, EncodingsFile};

fn trainer() -> Command {
    Command::cargo_bin("svm-trainer").unwrap()
}

fn run_ok(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn run_err(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(
        !output.status.success(),
        "expected failure, stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr).unwrap()
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

    let model = ClassifierFile::read(&model_path).unwrap();
    assert_eq!(model.classes, ["biden", "obama"]);
    assert!(matches!(model.method, Method::NearestNeighbour(_)));
    assert_eq!(
        model.models,
        EncodingsFile::read(&encodings).unwrap().models
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["samples"], 3);
    assert!(
        report["cross_validation"].is_null(),
        "one photo of Biden: nothing to cross-validate"
    );

    // A third, unseen photo of Obama is recognised.
    let unseen = encode(&dir.path().join("unseen"), &[("x", &["obama3.jpg"])]);
    let unseen = EncodingsFile::read(&unseen).unwrap();
    let (_, embedding) = unseen.embeddings().next().unwrap();
    let prediction = model.predict(embedding);
    assert!((prediction.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    match model.decide(&prediction, model.default_threshold as f64) {
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

    // Encodings of another embedding model are refused.
    let encodings = dir.path().join("foreign.msgpack");
    let mut file = EncodingsFile::new(
        "test".into(),
        facecore::format::EncodeSettings {
            analysis: Default::default(),
            multi_face: Default::default(),
            max_megapixels: 64,
            apply_exif_orientation: true,
        },
        Vec::new(),
    );
    file.models.embedding_model_sha256 = "0".repeat(64);
    file.write(&encodings).unwrap();
    let err = run_err(&mut train(&encodings));
    assert!(
        err.contains("embedding model 0000") && err.contains("make encode"),
        "{err}"
    );
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
    facecore::format::write_versioned(&model_path, &model, &facecore::classify::MODEL).unwrap();
    let err = ClassifierFile::read(&model_path).unwrap_err().to_string();
    assert!(
        err.contains("newer version") && err.contains("model.msgpack"),
        "{err}"
    );

    let mut faces = facecore::ModelFingerprint::current();
    faces.embedding_model_sha256 = "f".repeat(64);
    model.version -= 1;
    let err = model.check_fingerprint(&faces).unwrap_err().to_string();
    assert!(
        err.contains("ffff") && err.contains("encode and train again"),
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
    let image = facecore::decode_file(&plot, &Default::default())
        .unwrap()
        .image;
    assert!(image.width > 200 && image.height > 200, "{:?}", image);
    // The diagonal cells are green (correct predictions), so some pixel is clearly green.
    let green = image
        .pixels
        .chunks_exact(3)
        .any(|p| p[1] as i32 - p[0] as i32 > 60 && p[1] as i32 - p[2] as i32 > 60);
    assert!(green, "no green diagonal cell");
    // Text was drawn: there are dark pixels.
    assert!(
        image
            .pixels
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
