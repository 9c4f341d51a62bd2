//! YuNet + SFace as OpenCV 5 runs them: boxes, landmarks, scores and features of the registry test
//! photos, against `tests/fixtures/opencv5_sface_reference.json`, written by OpenCV 5's own
//! `FaceDetectorYN` and `FaceRecognizerSF` (see `scripts/make-sface-reference.py`). Debian's OpenCV
//! 4.6 cannot load the 2023mar YuNet in `FaceDetectorYN`, so facecore decodes its raw outputs itself;
//! this is the check that the decoding is OpenCV's.

use facecore::{DecodeOptions, FaceAnalyzer, ModelDir, Picture};
use facefile::{AnalysisSettings, EmbedderKind};

fn reference() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/opencv5_sface_reference.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn numbers(value: &serde_json::Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn yunet_and_sface_match_opencv_5() {
    let mut analyzer = FaceAnalyzer::load(
        &ModelDir::new(testdata::models_dir()),
        AnalysisSettings::for_embedder(EmbedderKind::Sface),
    )
    .unwrap();
    let options = DecodeOptions {
        apply_exif_orientation: false,
        ..Default::default()
    };
    let reference = reference();
    let images = reference["images"].as_object().unwrap();
    let mut faces_checked = 0;
    let mut worst_cosine = 1f32;
    for (name, expected) in images {
        let path = testdata::face_recognition_test_images().join(name);
        let decoded = facecore::decode_file(&path, &options).unwrap();
        let picture = Picture::from_rgb(decoded.image);
        let found = analyzer.detect(&picture, None).unwrap();
        let faces = expected["faces"].as_array().unwrap();
        assert_eq!(found.len(), faces.len(), "{name}: {found:?}");
        for face in faces {
            let rect = numbers(&face["rect"]);
            let landmarks = numbers(&face["landmarks"]);
            let detection = found
                .iter()
                .find(|d| {
                    let points = d.landmarks.unwrap();
                    points
                        .iter()
                        .flatten()
                        .zip(&landmarks)
                        .all(|(ours, theirs)| (ours - theirs).abs() < 0.5)
                })
                .unwrap_or_else(|| {
                    panic!("{name}: no face with landmarks {landmarks:?} in {found:?}")
                });
            assert!((detection.score - face["score"].as_f64().unwrap() as f32).abs() < 1e-3);
            // OpenCV's (x, y, w, h), as an inclusive box clipped to the photo.
            let expected_box = facefile::BoundingBox::new(
                rect[0].round() as i32,
                rect[1].round() as i32,
                (rect[0] + rect[2]).round() as i32 - 1,
                (rect[1] + rect[3]).round() as i32 - 1,
            )
            .clip(picture.width(), picture.height());
            let b = detection.bbox;
            for (ours, theirs) in [
                (b.left, expected_box.left),
                (b.top, expected_box.top),
                (b.right, expected_box.right),
                (b.bottom, expected_box.bottom),
            ] {
                assert!(
                    (ours - theirs).abs() <= 1,
                    "{name}: {b:?} vs {expected_box:?}"
                );
            }
            let ours = analyzer
                .embed(&picture, detection, facecore::Views::NONE)
                .unwrap()
                .embedding;
            let theirs = numbers(&face["feature"]);
            let cosine: f32 = ours.values().iter().zip(&theirs).map(|(a, b)| a * b).sum();
            worst_cosine = worst_cosine.min(cosine);
            assert!(cosine > 0.999, "{name}: cosine {cosine}");
            faces_checked += 1;
        }
    }
    eprintln!("{faces_checked} faces, worst cosine to OpenCV 5's SFace feature {worst_cosine}");
    assert!(faces_checked >= 7);
}
