//! Second tier: the trainer on the real TWICE seed embeddings and on the knn_examples photos.

use std::path::Path;

use assert_cmd::Command;
use classifier::{decide, Decision, Predictor, Thresholds};
use facecore::{FaceAnalyzer, ModelDir, Picture};
use facefile::format::model::{ClassifierFile, Method, RuleOrigin};
use facefile::{AnalysisSettings, EmbedderKind};
use testdata::command::run_ok;

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn seed_embeddings_reach_scikit_learns_accuracy_and_learn_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("model.msgpack");
    let report_path = dir.path().join("report.json");
    run_ok(
        Command::cargo_bin("svm-trainer")
            .unwrap()
            .arg("-i")
            .arg(testdata::shared_data().join("seed/seed_embeddings.csv"))
            .arg("-o")
            .arg(&model_path)
            .arg("--report")
            .arg(&report_path)
            .arg("--plot")
            .arg(dir.path().join("confusion.png")),
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let cv = &report["cross_validation"];
    let accuracy = cv["accuracy"].as_f64().unwrap();
    // scikit-learn's SVC(kernel="linear", C=1, probability=True): 0.9756 in the same protocol,
    // i.e. 679 of the 696 faces right (679/696 = 0.97557).
    let correct = (accuracy * 696.0).round() as u64;
    assert!(
        correct >= 679,
        "cross-validated accuracy {accuracy} ({correct} of 696)"
    );
    let confusion: Vec<Vec<u64>> = serde_json::from_value(cv["confusion"].clone()).unwrap();
    assert_eq!(confusion.len(), 9);
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 696);
    // The rule is learned from the data and keeps its promise on the data it was learned on.
    let rule = &report["rule"];
    assert_eq!(rule["origin"], "learned");
    assert!(rule["precision"].as_f64().unwrap() >= 0.98, "{rule}");
    assert!(rule["coverage"].as_f64().unwrap() > 0.3, "{rule}");
    assert_eq!(report["curve"].as_array().unwrap().len(), 6);

    let plot = image::open(dir.path().join("confusion.png")).unwrap();
    assert!(plot.width() > 600 && plot.height() > 600, "9×9 cells");

    let model = ClassifierFile::read(&model_path).unwrap().body;
    assert!(matches!(model.method, Method::Svm(_)));
    assert_eq!(model.classes.len(), 9);
    // dlib's 0.6 does not separate TWICE: the learned distance limit is tighter.
    assert!(
        model.rule.max_distance.is_some_and(|d| d < 0.6),
        "{:?}",
        model.rule
    );
    assert!(matches!(model.rule.origin, RuleOrigin::Learned(_)));
    // Same seed, same model.
    let again = dir.path().join("again.msgpack");
    run_ok(
        Command::cargo_bin("svm-trainer")
            .unwrap()
            .arg("-q")
            .arg("-i")
            .arg(testdata::shared_data().join("seed/seed_embeddings.csv"))
            .arg("-o")
            .arg(&again),
    );
    let again = ClassifierFile::read(&again).unwrap().body;
    assert_eq!(again.method, model.method);
    assert_eq!(again.rule, model.rule);
}

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn knn_train_photos_recognise_test_photos_and_reject_a_stranger() {
    let examples = testdata::shared_data().join("face_recognition/examples");
    let dir = tempfile::tempdir().unwrap();
    let encodings = dir.path().join("encodings.msgpack");
    let model_path = dir.path().join("model.msgpack");
    run_ok(
        Command::cargo_bin("encoder")
            .unwrap()
            .env("FACE_MODELS_DIR", testdata::models_dir())
            .arg("-q")
            .arg("-d")
            .arg(examples.join("knn_examples/train"))
            .arg("-f")
            .arg(&encodings),
    );
    let out = run_ok(
        Command::cargo_bin("svm-trainer")
            .unwrap()
            .arg("-i")
            .arg(&encodings)
            .arg("-o")
            .arg(&model_path),
    );
    assert!(out.contains("nearest neighbour"), "{out}");
    let model = ClassifierFile::read(&model_path).unwrap().body;
    let predictor = Predictor::new(&model);
    let thresholds = Thresholds::from_rule(&model.rule, None);
    let mut analyzer = FaceAnalyzer::load(
        &ModelDir::new(testdata::models_dir()),
        AnalysisSettings::for_embedder(EmbedderKind::Sface),
    )
    .unwrap();
    let mut name_of = |photo: &str| {
        let image = facecore::decode_file(&examples.join(photo), &Default::default())
            .unwrap()
            .image;
        let faces = analyzer.analyze(&Picture::from_rgb(image)).unwrap();
        let prediction = predictor.predict(&faces[0].embedding);
        match decide(&prediction, &thresholds) {
            Decision::Known { class, .. } => model.classes[class].clone(),
            Decision::Unknown { .. } => "Unknown".to_string(),
        }
    };
    assert_eq!(name_of("knn_examples/test/obama1.jpg"), "obama");
    assert_eq!(
        name_of("knn_examples/test/alex_lacamoire1.jpg"),
        "alex_lacamoire"
    );
    assert_eq!(
        name_of("knn_examples/test/johnsnow_test1.jpg"),
        "kit_harington"
    );
    // Lin-Manuel Miranda is nobody the model knows.
    assert_eq!(name_of("lin-manuel-miranda.png"), "Unknown");
}

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn strangers_set_the_rule_and_strangers_left_out_of_training_stay_unknown() {
    // The dev strangers in two halves of people; the model learns the members and one half, and
    // is tested on the other half's photos: people it never saw.
    let dev = testdata::shared_data().join("twice-dev");
    let dir = tempfile::tempdir().unwrap();
    let mut people: Vec<_> = std::fs::read_dir(dev.join("strangers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    let link_half = |half: usize, root: &Path| {
        for person in people.iter().skip(half).step_by(2) {
            let folder = root.join(person.file_name().unwrap());
            std::fs::create_dir_all(&folder).unwrap();
            for photo in std::fs::read_dir(person).unwrap() {
                let photo = photo.unwrap().path();
                std::os::unix::fs::symlink(&photo, folder.join(photo.file_name().unwrap()))
                    .unwrap();
            }
        }
    };
    let (seen, unseen) = (dir.path().join("seen"), dir.path().join("unseen"));
    link_half(0, &seen);
    link_half(1, &unseen);
    let encode = |args: &[&std::ffi::OsStr], output: &Path| {
        run_ok(
            Command::new(testdata::pipeline::binary("encoder"))
                .env("FACE_MODELS_DIR", testdata::models_dir())
                .arg("-q")
                .args(args)
                .arg("-f")
                .arg(output),
        )
    };
    let training = dir.path().join("training.msgpack");
    let photos = dev.join("photos");
    encode(
        &[
            "-d".as_ref(),
            photos.as_os_str(),
            "--strangers".as_ref(),
            seen.as_os_str(),
        ],
        &training,
    );
    let test = dir.path().join("test.msgpack");
    encode(&["-d".as_ref(), unseen.as_os_str()], &test);
    let report = dir.path().join("report.json");
    let out = run_ok(
        Command::cargo_bin("svm-trainer")
            .unwrap()
            .arg("-i")
            .arg(&training)
            .arg("-o")
            .arg(dir.path().join("model.msgpack"))
            .arg("--report")
            .arg(&report)
            .arg("--test")
            .arg(&test),
    );
    eprintln!("{out}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(report["rule"]["origin"], "strangers");
    assert_eq!(report["rule"]["max_distance"], serde_json::Value::Null);
    assert!(
        report["rule"]["coverage"].as_f64().unwrap() >= 0.9,
        "{}",
        report["rule"]
    );
    let test = &report["test"];
    assert!(test["strangers"].as_u64().unwrap() >= 40, "{test}");
    assert!(
        test["stranger_false_accept"].as_f64().unwrap() <= 0.05,
        "people it never saw are rarely named: {test}"
    );
}
