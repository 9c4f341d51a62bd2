//! Second tier: parity with face_recognition 1.3.0 on the reference fixture in `../shared`.
//! Run with `make test-shared` (these tests are `#[ignore]`d in the first tier only because the
//! shared folder is not part of a fresh clone; CI runs them).

use facecore::{DecodeOptions, FaceAnalyzer, ModelDir, Picture};
use facefile::settings::Upsample;
use facefile::{AnalysisSettings, BoundingBox, EmbedderKind};

fn reference() -> serde_json::Value {
    let path = testdata::shared_dir().join("fixtures/face_recognition_reference.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn css_box(value: &serde_json::Value) -> BoundingBox {
    let v: Vec<i32> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap() as i32)
        .collect();
    BoundingBox::from_css([v[0], v[1], v[2], v[3]])
}

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn boxes_and_embeddings_match_face_recognition() {
    let mut settings = AnalysisSettings::for_embedder(EmbedderKind::Dlib);
    settings.detection.upsample = Upsample::Times(1);
    let mut analyzer =
        FaceAnalyzer::load(&ModelDir::new(testdata::models_dir()), settings).unwrap();
    // face_recognition's pixels: PIL, no EXIF rotation.
    let options = DecodeOptions {
        apply_exif_orientation: false,
        ..Default::default()
    };
    let reference = reference();
    let images = reference["images"].as_object().unwrap();
    assert!(
        images.len() >= 20,
        "reference lists {} images",
        images.len()
    );
    let mut checked_faces = 0;
    let mut worst_component = 0f32;
    for (relative, expected) in images {
        let path = testdata::shared_data().join(relative);
        let decoded =
            facecore::decode_file(&path, &options).unwrap_or_else(|e| panic!("{relative}: {e}"));
        assert_eq!(
            (decoded.image.width() as u64, decoded.image.height() as u64),
            (
                expected["width"].as_u64().unwrap(),
                expected["height"].as_u64().unwrap()
            ),
            "{relative}: size"
        );
        let picture = Picture::from_rgb(decoded.image);
        let found = analyzer.detect(&picture, None).unwrap();
        let faces = expected["faces"].as_array().unwrap();
        assert_eq!(
            found.len(),
            faces.len(),
            "{relative}: number of faces, found {found:?}"
        );
        for face in faces {
            let reference_box = css_box(&face["box"]);
            let best = found
                .iter()
                .map(|d| d.bbox.iou(&reference_box))
                .fold(0.0, f64::max);
            assert!(
                best >= 0.9,
                "{relative}: best IoU {best:.3} with {reference_box:?} in {found:?}"
            );
            let ours = &analyzer.encode_boxes(&picture, &[reference_box]).unwrap()[0].embedding;
            let theirs: Vec<f32> = face["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            assert_eq!(theirs.len(), 128);
            for (i, (a, b)) in ours.values().iter().zip(&theirs).enumerate() {
                let diff = (a - b).abs();
                worst_component = worst_component.max(diff);
                assert!(
                    diff <= 1e-4,
                    "{relative}: component {i} differs by {diff} ({a} vs {b})"
                );
            }
            checked_faces += 1;
        }
    }
    eprintln!("parity: {checked_faces} faces in {} images, worst component difference {worst_component:e}", images.len());
    assert!(checked_faces >= 25);
}
