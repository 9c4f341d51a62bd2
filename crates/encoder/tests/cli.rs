//! The `encoder` binary on real photos (face_recognition 1.3.0's test images, fetched by
//! `make fixtures`) and on every kind of bad input a scraped folder holds.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use facecore::{EncodingsFile, Outcome, Rejection};

fn fixture(name: &str) -> PathBuf {
    testdata::face_recognition_test_images().join(name)
}

fn encoder(data: &Path, output: &Path) -> Command {
    let mut cmd = Command::cargo_bin("encoder").unwrap();
    cmd.arg("-d")
        .arg(data)
        .arg("-f")
        .arg(output)
        .env("FACE_MODELS_DIR", testdata::models_dir());
    cmd
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

fn outcome<'a>(file: &'a EncodingsFile, path: &str) -> &'a Outcome {
    &file
        .images
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("no record for {path}"))
        .outcome
}

fn embedding<'a>(file: &'a EncodingsFile, path: &str) -> &'a facecore::Embedding {
    match outcome(file, path) {
        Outcome::Encoded(face) => &face.embedding,
        other => panic!("{path}: {other:?}"),
    }
}

fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn encodes_people_incrementally_with_unicode_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = dir.path().join("encodings.msgpack");
    copy(&fixture("obama.jpg"), &data.join("obama/obama.jpg"));
    copy(&fixture("obama2.jpg"), &data.join("obama/obama2.jpg"));
    copy(&fixture("biden.jpg"), &data.join("나연/biden.jpg"));

    let out = stdout_of(&mut encoder(&data, &output));
    assert!(out.contains("3 of 3 photos encoded"), "{out}");
    assert!(out.contains("나연"), "{out}");
    let file = EncodingsFile::read(&output).unwrap();
    assert_eq!(file.models, facecore::ModelFingerprint::current());
    let people: Vec<&str> = file.images.iter().map(|r| r.person.as_str()).collect();
    assert_eq!(people, ["obama", "obama", "나연"]);
    assert_eq!(file.images[2].path, "나연/biden.jpg");
    let same = embedding(&file, "obama/obama.jpg").distance(embedding(&file, "obama/obama2.jpg"));
    let different =
        embedding(&file, "obama/obama.jpg").distance(embedding(&file, "나연/biden.jpg"));
    assert!(same < 0.6, "two photos of Obama are {same} apart");
    assert!(
        different > 0.6,
        "Obama and Biden are only {different} apart"
    );
    // The file hash recorded is the hash of the bytes.
    let bytes = std::fs::read(data.join("obama/obama.jpg")).unwrap();
    assert_eq!(
        file.images[0].file_sha256,
        facecore::models::sha256_bytes(&bytes)
    );

    // Nothing changed: everything is reused and the embeddings are identical.
    let out = stdout_of(&mut encoder(&data, &output));
    assert!(out.contains("(0 processed, 3 reused)"), "{out}");
    assert_eq!(EncodingsFile::read(&output).unwrap().images, file.images);

    // One photo added, one deleted: one processed, the stale entry gone.
    copy(&fixture("obama3.jpg"), &data.join("obama/obama3.jpg"));
    std::fs::remove_file(data.join("obama/obama2.jpg")).unwrap();
    let out = stdout_of(&mut encoder(&data, &output));
    assert!(out.contains("(1 processed, 2 reused)"), "{out}");
    let file = EncodingsFile::read(&output).unwrap();
    let paths: Vec<&str> = file.images.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["obama/obama.jpg", "obama/obama3.jpg", "나연/biden.jpg"]
    );
    assert!(
        embedding(&file, "obama/obama.jpg").distance(embedding(&file, "obama/obama3.jpg")) < 0.6
    );

    // A changed setting re-encodes everything.
    let out = stdout_of(encoder(&data, &output).args(["--upsample", "1"]));
    assert!(out.contains("(3 processed, 0 reused)"), "{out}");
}

/// Three real faces of about the same size side by side: each photo is cropped around the face
/// the detector finds in it (with a margin) and scaled to `side`×`side`.
fn three_faces(side: u32) -> image::RgbImage {
    let models = facecore::ModelDir::new(testdata::models_dir());
    let settings = facecore::AnalysisSettings::default();
    let analyzer = facecore::FaceAnalyzer::load(&models, &settings).unwrap();
    let mut canvas =
        image::RgbImage::from_pixel(side * 3 + 40, side + 40, image::Rgb([128, 128, 128]));
    for (i, name) in ["obama.jpg", "obama2.jpg", "biden.jpg"].iter().enumerate() {
        let photo = facecore::decode_file(&fixture(name), &Default::default())
            .unwrap()
            .image;
        let face = analyzer.detect(&photo, &settings)[0].bbox;
        let margin = face.width() / 2;
        let (left, top) = (
            (face.left - margin).max(0) as u32,
            (face.top - margin).max(0) as u32,
        );
        let size = (face.width() + 2 * margin) as u32;
        let size = size.min(photo.width - left).min(photo.height - top);
        let photo = image::RgbImage::from_raw(photo.width, photo.height, photo.pixels).unwrap();
        let crop = image::imageops::crop_imm(&photo, left, top, size, size).to_image();
        let small =
            image::imageops::resize(&crop, side, side, image::imageops::FilterType::Triangle);
        image::imageops::replace(&mut canvas, &small, (20 + i as u32 * side) as i64, 20);
    }
    canvas
}

#[test]
fn every_bad_input_gets_one_clear_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = dir.path().join("encodings.msgpack");
    let person = data.join("momo");
    std::fs::create_dir_all(&person).unwrap();
    std::fs::create_dir_all(data.join("empty_person")).unwrap();

    std::fs::write(person.join("empty.jpg"), b"").unwrap();
    let jpeg = std::fs::read(fixture("obama.jpg")).unwrap();
    std::fs::write(person.join("truncated.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    std::fs::write(person.join("text.jpg"), b"this is a note, not a photo\n").unwrap();
    std::fs::write(
        person.join("error_page.jpg"),
        b"<!DOCTYPE html><html><head><title>403</title></head></html>",
    )
    .unwrap();
    copy(&fixture("32bit.png"), &person.join("png_named.jpg"));
    let obama = facecore::decode_file(&fixture("obama.jpg"), &Default::default())
        .unwrap()
        .image;
    let mut webp = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_raw(obama.width, obama.height, obama.pixels)
        .unwrap()
        .write_to(&mut webp, image::ImageFormat::WebP)
        .unwrap();
    std::fs::write(person.join("webp_named.jpg"), webp.get_ref()).unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone.jpg"), person.join("unreadable.jpg")).unwrap();
    let gradient = image::RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, 90])
    });
    gradient.save(person.join("no_face.png")).unwrap();
    three_faces(240)
        .save(person.join("three_faces.png"))
        .unwrap();

    let output_text = encoder(&data, &output).output().unwrap();
    assert!(
        output_text.status.success(),
        "{}",
        String::from_utf8_lossy(&output_text.stderr)
    );
    let stderr = String::from_utf8_lossy(&output_text.stderr);
    assert!(
        stderr.contains("empty_person") && stderr.contains("no photos"),
        "{stderr}"
    );

    let file = EncodingsFile::read(&output).unwrap();
    assert_eq!(
        file.images.len(),
        9,
        "one record per file: {:#?}",
        file.images
    );
    let unreadable = |path: &str| match outcome(&file, path) {
        Outcome::Rejected(Rejection::Unreadable { message }) => message.clone(),
        other => panic!("{path}: expected unreadable, got {other:?}"),
    };
    assert!(unreadable("momo/empty.jpg").contains("empty file"));
    assert!(unreadable("momo/truncated.jpg").contains("truncated JPEG"));
    assert!(unreadable("momo/text.jpg").contains("plain text"));
    assert!(unreadable("momo/error_page.jpg").contains("HTML page"));
    assert!(unreadable("momo/unreadable.jpg").contains("cannot read file"));
    // Content decides, not the extension: these are real photos.
    embedding(&file, "momo/png_named.jpg");
    embedding(&file, "momo/webp_named.jpg");
    assert_eq!(
        outcome(&file, "momo/no_face.png"),
        &Outcome::Rejected(Rejection::NoFace)
    );
    assert_eq!(
        outcome(&file, "momo/three_faces.png"),
        &Outcome::Rejected(Rejection::SeveralFaces { count: 3 })
    );

    // --multi-face largest keeps one of the three.
    let out = stdout_of(encoder(&data, &output).args(["--multi-face", "largest"]));
    assert!(out.contains("3 of 9 photos encoded"), "{out}");
    match outcome(
        &EncodingsFile::read(&output).unwrap(),
        "momo/three_faces.png",
    ) {
        Outcome::Encoded(face) => assert_eq!(face.faces_found, 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn crops_are_aligned_150px_faces() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama.jpg"), &data.join("Jihyo/a.jpg"));
    let crops = dir.path().join("crops");
    stdout_of(
        encoder(&data, &dir.path().join("e.msgpack"))
            .arg("--crops")
            .arg(&crops),
    );
    let chip = facecore::decode_file(&crops.join("Jihyo/a.jpg.png"), &Default::default())
        .unwrap()
        .image;
    assert_eq!((chip.width, chip.height), (150, 150));
    // A face, not a blank: the chip has contrast.
    let (min, max) = chip
        .pixels
        .iter()
        .fold((255u8, 0u8), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert!(max - min > 100, "flat chip {min}..{max}");
}

#[test]
fn missing_models_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama.jpg"), &data.join("obama/obama.jpg"));
    let output = dir.path().join("encodings.msgpack");
    let result = encoder(&data, &output)
        .arg("--models-dir")
        .arg(dir.path().join("no-models"))
        .output()
        .unwrap();
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("shape_predictor_5_face_landmarks.dat") && stderr.contains("make models"),
        "{stderr}"
    );
    assert!(!output.exists(), "no output may be written on error");
}

#[test]
fn missing_or_empty_data_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("encodings.msgpack");
    let result = encoder(&dir.path().join("nope"), &output).output().unwrap();
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stderr).contains("does not exist"));

    std::fs::create_dir_all(dir.path().join("data/empty")).unwrap();
    let result = encoder(&dir.path().join("data"), &output).output().unwrap();
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stderr).contains("no photos found"));
}

#[test]
fn unwritable_output_fails_without_leaving_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama.jpg"), &data.join("obama/obama.jpg"));
    let output = dir.path().join("missing-folder/encodings.msgpack");
    let result = encoder(&data, &output).output().unwrap();
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stderr).contains("missing-folder"));
    assert!(!dir.path().join("missing-folder").exists());
}

#[test]
fn cnn_detector_finds_the_same_face_as_hog() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama2.jpg"), &data.join("obama/obama2.jpg"));
    let hog_out = dir.path().join("hog.msgpack");
    let cnn_out = dir.path().join("cnn.msgpack");
    stdout_of(&mut encoder(&data, &hog_out));
    stdout_of(encoder(&data, &cnn_out).args(["--detector", "cnn"]));
    let face = |path: &Path| match &EncodingsFile::read(path).unwrap().images[0].outcome {
        Outcome::Encoded(face) => face.clone(),
        other => panic!("{other:?}"),
    };
    let (hog, cnn) = (face(&hog_out), face(&cnn_out));
    assert!(
        hog.bbox.iou(&cnn.bbox) > 0.5,
        "{:?} vs {:?}",
        hog.bbox,
        cnn.bbox
    );
    // Different boxes, same person: the embeddings stay close.
    assert!(hog.embedding.distance(&cnn.embedding) < 0.4);
    let settings = EncodingsFile::read(&cnn_out).unwrap().settings;
    assert_eq!(
        settings.analysis.detection.detector,
        facecore::DetectorKind::Cnn
    );
}
