//! Second tier: the encoder on the datasets in `../shared/data`, read in place.
//! `#[ignore]`d in the first tier (a fresh clone has no `../shared`); `make test-shared` runs them.

use assert_cmd::Command;
use facefile::format::encodings::{EncodingsFile, Outcome, Rejection};
use facefile::BoundingBox;
use testdata::command::run_ok;

fn encoder() -> Command {
    let mut cmd = Command::cargo_bin("encoder").unwrap();
    cmd.env("FACE_MODELS_DIR", testdata::models_dir());
    cmd
}

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn knn_train_folder_matches_face_recognition_end_to_end() {
    let train = testdata::shared_data().join("face_recognition/examples/knn_examples/train");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("encodings.msgpack");
    // face_recognition's model and settings: dlib, upsample 1, no EXIF rotation.
    run_ok(
        encoder()
            .arg("-d")
            .arg(&train)
            .arg("-f")
            .arg(&output)
            .args([
                "--embedder",
                "dlib",
                "--upsample",
                "1",
                "--no-exif-orientation",
            ]),
    );
    let file = EncodingsFile::read(&output).unwrap().body;
    assert_eq!(file.images.len(), 9);
    let mut people: Vec<&str> = file.images.iter().map(|r| r.person.as_str()).collect();
    people.dedup();
    assert_eq!(
        people,
        [
            "alex_lacamoire",
            "biden",
            "kit_harington",
            "obama",
            "rose_leslie"
        ]
    );

    let reference: serde_json::Value = serde_json::from_slice(
        &std::fs::read(testdata::shared_dir().join("fixtures/face_recognition_reference.json"))
            .unwrap(),
    )
    .unwrap();
    for record in &file.images {
        let key = format!(
            "face_recognition/examples/knn_examples/train/{}",
            record.path
        );
        let expected = &reference["images"][&key]["faces"][0];
        let css: Vec<i32> = expected["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap() as i32)
            .collect();
        let Outcome::Encoded(face) = &record.outcome else {
            panic!("{}: {:?}", record.path, record.outcome)
        };
        let reference_box = BoundingBox::from_css([css[0], css[1], css[2], css[3]]);
        assert!(
            face.bbox.iou(&reference_box) >= 0.9,
            "{}: {:?} vs {reference_box:?}",
            record.path,
            face.bbox
        );
        let worst = face
            .embedding
            .values()
            .iter()
            .zip(expected["embedding"].as_array().unwrap())
            .map(|(a, b)| (a - b.as_f64().unwrap() as f32).abs())
            .fold(0f32, f32::max);
        assert!(
            worst <= 1e-4,
            "{}: embedding differs by {worst}",
            record.path
        );
    }
}

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn default_settings_find_every_reference_face_and_reject_group_photos() {
    let examples = testdata::shared_data().join("face_recognition/examples");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Person folders made of links to the shared photos (read in place, never copied).
    for (person, folder) in [
        ("test", examples.join("knn_examples/test")),
        ("examples", examples.clone()),
    ] {
        std::fs::create_dir_all(data.join(person)).unwrap();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let is_photo = path.extension().is_some_and(|e| e == "jpg" || e == "png");
            if is_photo {
                std::os::unix::fs::symlink(
                    &path,
                    data.join(person).join(path.file_name().unwrap()),
                )
                .unwrap();
            }
        }
    }
    for embedder in ["sface", "dlib"] {
        let output = dir.path().join(format!("{embedder}.msgpack"));
        run_ok(
            encoder()
                .arg("-d")
                .arg(&data)
                .arg("-f")
                .arg(&output)
                .args(["--embedder", embedder]),
        );
        let file = EncodingsFile::read(&output).unwrap().body;
        let find = |path: &str| &file.images.iter().find(|r| r.path == path).unwrap().outcome;
        assert_eq!(
            find("test/obama_and_biden.jpg"),
            &Outcome::Rejected(Rejection::SeveralFaces { count: 3 })
        );
        assert_eq!(
            find("examples/two_people.jpg"),
            &Outcome::Rejected(Rejection::SeveralFaces { count: 2 })
        );
        for resolution in [
            "obama-240p.jpg",
            "obama-480p.jpg",
            "obama-720p.jpg",
            "obama-1080p.jpg",
            "obama_small.jpg",
        ] {
            assert!(
                matches!(find(&format!("examples/{resolution}")), Outcome::Encoded(_)),
                "{resolution}"
            );
        }
        // Kit Harington and Rose Leslie side by side: YuNet finds both faces (dlib's HOG only one of
        // them), so the photo has no single subject.
        let group_photos = if embedder == "sface" {
            assert_eq!(
                find("test/kit_with_rose.jpg"),
                &Outcome::Rejected(Rejection::SeveralFaces { count: 2 })
            );
            3
        } else {
            2
        };
        let encoded = file
            .images
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Encoded(_)))
            .count();
        assert_eq!(
            encoded,
            file.images.len() - group_photos,
            "{embedder}: {:#?}",
            file.images
        );
    }
}
