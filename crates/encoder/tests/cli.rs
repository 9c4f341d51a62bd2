//! The `encoder` binary on real photos (face_recognition 1.3.0's test images, fetched by
//! `make fixtures`) and on every kind of bad input a scraped folder holds.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use facecore::{FaceAnalyzer, ModelDir, Picture};
use facefile::format::encodings::{Encodings, EncodingsFile, Outcome, Rejection};
use facefile::{AnalysisSettings, DetectorKind, EmbedderKind, Embedding};
use testdata::command::{run_err, run_ok};

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

fn outcome<'a>(file: &'a Encodings, path: &str) -> &'a Outcome {
    &file
        .images
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("no record for {path}"))
        .outcome
}

fn embedding<'a>(file: &'a Encodings, path: &str) -> &'a Embedding {
    match outcome(file, path) {
        Outcome::Encoded(face) => &face.embedding,
        other => panic!("{path}: {other:?}"),
    }
}

fn stdout_of(cmd: &mut Command) -> String {
    run_ok(cmd)
}

fn read(path: &Path) -> Encodings {
    EncodingsFile::read(path).unwrap().body
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
    assert!(out.contains("3 of 3 photos encoded with sface"), "{out}");
    assert!(out.contains("나연"), "{out}");
    let stamped = EncodingsFile::read(&output).unwrap();
    assert_eq!(stamped.embedder, Some(EmbedderKind::Sface.id()));
    let file = stamped.body;
    let people: Vec<&str> = file.images.iter().map(|r| r.person.as_str()).collect();
    assert_eq!(people, ["obama", "obama", "나연"]);
    assert_eq!(file.images[2].path, "나연/biden.jpg");
    let same = embedding(&file, "obama/obama.jpg").distance(embedding(&file, "obama/obama2.jpg"));
    let different =
        embedding(&file, "obama/obama.jpg").distance(embedding(&file, "나연/biden.jpg"));
    let published = EmbedderKind::Sface.published_same_person_distance();
    assert!(same < published, "two photos of Obama are {same} apart");
    assert!(
        different > published,
        "Obama and Biden are only {different} apart"
    );
    // Each face also has its grey view.
    match outcome(&file, "obama/obama.jpg") {
        Outcome::Encoded(face) => assert_eq!(face.extra_views.len(), 1),
        other => panic!("{other:?}"),
    }
    // The file hash recorded is the hash of the bytes.
    let bytes = std::fs::read(data.join("obama/obama.jpg")).unwrap();
    assert_eq!(
        file.images[0].file_sha256,
        facefile::fs::sha256_bytes(&bytes)
    );

    // Nothing changed: everything is reused, and the file is left untouched (make sees no change).
    let written = std::fs::metadata(&output).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = stdout_of(&mut encoder(&data, &output));
    assert_eq!(
        std::fs::metadata(&output).unwrap().modified().unwrap(),
        written
    );
    assert!(out.contains("(0 photos processed, 3 reused)"), "{out}");
    assert_eq!(read(&output).images, file.images);

    // One photo added, one deleted: one processed, the stale entry gone.
    copy(&fixture("obama3.jpg"), &data.join("obama/obama3.jpg"));
    std::fs::remove_file(data.join("obama/obama2.jpg")).unwrap();
    let out = stdout_of(&mut encoder(&data, &output));
    assert!(out.contains("(1 photos processed, 2 reused)"), "{out}");
    let file = read(&output);
    let paths: Vec<&str> = file.images.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["obama/obama.jpg", "obama/obama3.jpg", "나연/biden.jpg"]
    );
    assert!(
        embedding(&file, "obama/obama.jpg").distance(embedding(&file, "obama/obama3.jpg"))
            < published
    );

    // A changed setting re-encodes everything; so does another embedder, with its own identity.
    // Small views (by default): the face as a 24- and a 40-px face shows it; still the same
    // person, but farther from the photo the smaller the face (less detail survives).
    match outcome(&file, "obama/obama.jpg") {
        Outcome::Encoded(face) => {
            assert_eq!(face.extra_views.len(), 1, "the grey view");
            let [at_24, at_40] = &face.small_views[..] else {
                panic!("{} small views", face.small_views.len())
            };
            let (far, near) = (
                face.embedding.distance(at_24),
                face.embedding.distance(at_40),
            );
            assert!(
                near < far && far < published,
                "the 24-px view is {far} from the photo, the 40-px one {near}"
            );
        }
        other => panic!("{other:?}"),
    }
    let out = stdout_of(encoder(&data, &output).arg("--no-small-views"));
    assert!(out.contains("(3 photos processed, 0 reused)"), "{out}");
    match outcome(&read(&output), "obama/obama.jpg") {
        Outcome::Encoded(face) => assert!(face.small_views.is_empty()),
        other => panic!("{other:?}"),
    }
    let out = stdout_of(encoder(&data, &output).arg("--no-grey-views"));
    assert!(out.contains("(3 photos processed, 0 reused)"), "{out}");
    let out = stdout_of(encoder(&data, &output).args(["--embedder", "dlib"]));
    assert!(out.contains("(3 photos processed, 0 reused)"), "{out}");
    assert_eq!(
        EncodingsFile::read(&output).unwrap().embedder,
        Some(EmbedderKind::Dlib.id())
    );
}

/// Three real faces of about the same size side by side: each photo is cropped around the face
/// the detector finds in it (with a margin) and scaled to `side`×`side`.
fn three_faces(side: u32) -> image::RgbImage {
    let models = ModelDir::new(testdata::models_dir());
    let mut analyzer = FaceAnalyzer::load(&models, AnalysisSettings::default()).unwrap();
    let mut canvas =
        image::RgbImage::from_pixel(side * 3 + 40, side + 40, image::Rgb([128, 128, 128]));
    for (i, name) in ["obama.jpg", "obama2.jpg", "biden.jpg"].iter().enumerate() {
        let photo = facecore::decode_file(&fixture(name), &Default::default())
            .unwrap()
            .image;
        let face = analyzer
            .detect(&Picture::from_rgb(photo.clone()), None)
            .unwrap()[0]
            .bbox;
        let margin = face.width() / 2;
        let (left, top) = (
            (face.left - margin).max(0) as u32,
            (face.top - margin).max(0) as u32,
        );
        let size = (face.width() + 2 * margin) as u32;
        let size = size.min(photo.width() - left).min(photo.height() - top);
        let photo =
            image::RgbImage::from_raw(photo.width(), photo.height(), photo.into_pixels()).unwrap();
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
    image::RgbImage::from_raw(obama.width(), obama.height(), obama.into_pixels())
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
    assert!(output_text.status.success(), "{output_text:?}");
    let stderr = String::from_utf8_lossy(&output_text.stderr);
    assert!(
        stderr.contains("empty_person") && stderr.contains("no photos"),
        "{stderr}"
    );

    let file = read(&output);
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
    match outcome(&read(&output), "momo/three_faces.png") {
        Outcome::Encoded(face) => assert_eq!(face.faces_found, 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn crops_are_the_aligned_faces_each_model_reads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama.jpg"), &data.join("Jihyo/a.jpg"));
    let crops = dir.path().join("crops");
    // SFace reads 112×112 faces; dlib 150×150.
    for (embedder, side) in [("sface", 112), ("dlib", 150)] {
        stdout_of(
            encoder(&data, &dir.path().join(format!("{embedder}.msgpack")))
                .args(["--embedder", embedder])
                .arg("--crops")
                .arg(crops.join(embedder)),
        );
        let chip = facecore::decode_file(
            &crops.join(embedder).join("Jihyo/a.jpg.png"),
            &Default::default(),
        )
        .unwrap()
        .image;
        assert_eq!((chip.width(), chip.height()), (side, side));
        // A face, not a blank: the chip has contrast.
        let (min, max) = chip
            .pixels()
            .iter()
            .fold((255u8, 0u8), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        assert!(max - min > 100, "flat chip {min}..{max}");
    }
}

#[test]
fn missing_models_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama.jpg"), &data.join("obama/obama.jpg"));
    let output = dir.path().join("encodings.msgpack");
    let stderr = run_err(
        encoder(&data, &output)
            .arg("--models-dir")
            .arg(dir.path().join("no-models")),
    );
    assert!(
        stderr.contains("face_detection_yunet_2023mar.onnx") && stderr.contains("make models"),
        "{stderr}"
    );
    assert!(!output.exists(), "no output may be written on error");
}

#[test]
fn missing_or_empty_data_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("encodings.msgpack");
    assert!(run_err(&mut encoder(&dir.path().join("nope"), &output)).contains("does not exist"));

    std::fs::create_dir_all(dir.path().join("data/empty")).unwrap();
    assert!(run_err(&mut encoder(&dir.path().join("data"), &output)).contains("no photos found"));
}

#[test]
fn unwritable_output_fails_without_leaving_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama.jpg"), &data.join("obama/obama.jpg"));
    let output = dir.path().join("missing-folder/encodings.msgpack");
    assert!(run_err(&mut encoder(&data, &output)).contains("missing-folder"));
    assert!(!dir.path().join("missing-folder").exists());
}

#[test]
fn cnn_detector_finds_the_same_face_as_hog() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama2.jpg"), &data.join("obama/obama2.jpg"));
    let hog_out = dir.path().join("hog.msgpack");
    let cnn_out = dir.path().join("cnn.msgpack");
    stdout_of(encoder(&data, &hog_out).args(["--embedder", "dlib"]));
    stdout_of(encoder(&data, &cnn_out).args(["--embedder", "dlib", "--detector", "cnn"]));
    let face = |path: &Path| match &read(path).images[0].outcome {
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
    let settings = read(&cnn_out).settings;
    assert_eq!(settings.analysis.detection.detector, DetectorKind::Cnn);
    // dlib's detectors cannot feed SFace, which aligns with YuNet's landmarks.
    let err = run_err(encoder(&data, &cnn_out).args(["--detector", "cnn"]));
    assert!(
        err.contains("--embedder sface") && err.contains("--detector cnn"),
        "{err}"
    );
}

#[test]
fn other_files_are_never_overwritten_and_settings_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama.jpg"), &data.join("obama/obama.jpg"));
    // A model (or a video, a photo, a CSV) given as the output by mistake is refused...
    let not_encodings = dir.path().join("model.msgpack");
    std::fs::write(
        &not_encodings,
        rmp_serde::to_vec_named(&("facelabel-model", 2)).unwrap(),
    )
    .unwrap();
    let photo = data.join("obama/obama.jpg");
    for output in [&not_encodings, &photo] {
        let before = std::fs::read(output).unwrap();
        let err = run_err(&mut encoder(&data, output));
        assert!(
            err.contains("--force") && err.contains("would be replaced"),
            "{err}"
        );
        assert_eq!(std::fs::read(output).unwrap(), before);
    }
    // ...unless asked for.
    stdout_of(encoder(&data, &not_encodings).arg("--force"));
    assert!(EncodingsFile::read(&not_encodings).is_ok());
    // Writing to a device writes into it, never replaces it.
    stdout_of(&mut encoder(&data, Path::new("/dev/null")));
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());

    // Unbounded settings: upsampling beyond 2 is refused, threads are lowered to the cores.
    let out = encoder(&data, &dir.path().join("e.msgpack"))
        .args(["--embedder", "dlib", "--upsample", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("auto, 0, 1 or 2"),
        "{out:?}"
    );
    let out = encoder(&data, &dir.path().join("e.msgpack"))
        .args(["-j", "1000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--threads 1000 lowered to"),
        "{out:?}"
    );
}

#[test]
fn strangers_are_encoded_as_strangers_and_never_as_members() {
    use facefile::format::encodings::Role;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = dir.path().join("encodings.msgpack");
    copy(&fixture("obama.jpg"), &data.join("obama/obama.jpg"));
    copy(&fixture("obama2.jpg"), &data.join("obama/obama2.jpg"));
    // data/.strangers/<anyone>/: people who are not members.
    copy(&fixture("biden.jpg"), &data.join(".strangers/biden/b.jpg"));
    let out = stdout_of(&mut encoder(&data, &output));
    assert!(
        out.contains("1 photos of 1 people who are not members"),
        "{out}"
    );
    assert!(out.contains("(strangers)"), "{out}");
    let file = read(&output);
    let roles: Vec<(&str, Role, &str)> = file
        .images
        .iter()
        .map(|r| (r.person.as_str(), r.role, r.path.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("obama", Role::Member, "obama/obama.jpg"),
            ("obama", Role::Member, "obama/obama2.jpg"),
            ("biden", Role::Stranger, "biden/b.jpg"),
        ]
    );
    // Members' faces come with their mirror image, to be scored the way the labeler scores.
    match outcome(&file, "obama/obama.jpg") {
        Outcome::Encoded(face) => {
            let mirror = face.mirror.as_ref().expect("a mirror view");
            let d = mirror.distance(&face.embedding);
            assert!(d > 0.0 && d < 0.6, "the mirror image is the same face: {d}");
        }
        other => panic!("{other:?}"),
    }
    // The members' summary (`embeddings()`) holds no stranger.
    assert!(file.embeddings().all(|(person, _)| person == "obama"));

    // --strangers elsewhere works the same; a missing folder, or one read as people, does not.
    let elsewhere = dir.path().join("other-idols");
    copy(&fixture("biden.jpg"), &elsewhere.join("joe/b.jpg"));
    let out2 = dir.path().join("e2.msgpack");
    run_ok(
        encoder(&data, &out2)
            .arg("--strangers")
            .arg(&elsewhere)
            .arg("-q"),
    );
    assert!(read(&out2)
        .images
        .iter()
        .any(|r| r.role == Role::Stranger && r.person == "joe"));
    let err = run_err(
        encoder(&data, &out2)
            .arg("--strangers")
            .arg(dir.path().join("nope")),
    );
    assert!(err.contains("no such folder"), "{err}");
    let err = run_err(
        encoder(&data, &out2)
            .arg("--strangers")
            .arg(data.join("obama")),
    );
    assert!(
        err.contains("would be read") && err.contains(".strangers"),
        "{err}"
    );
}

#[test]
fn a_crops_folder_inside_the_data_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy(&fixture("obama.jpg"), &data.join("obama/obama.jpg"));
    copy(&fixture("biden.jpg"), &data.join("biden/biden.jpg"));
    let output = dir.path().join("encodings.msgpack");
    for inside in [
        data.join("faces"),
        data.join("biden"),
        data.join("obama/crops"),
    ] {
        let err = run_err(encoder(&data, &output).arg("--crops").arg(&inside));
        assert!(
            err.contains("inside the data folder") && err.contains("--crops"),
            "{}: {err}",
            inside.display()
        );
        assert!(!output.exists(), "nothing is encoded");
    }
    assert!(
        !data.join("faces").exists(),
        "the refused folder is not created"
    );
    // Hidden folders are never read as people, and outside is fine.
    run_ok(
        encoder(&data, &output)
            .arg("-q")
            .arg("--crops")
            .arg(data.join(".crops")),
    );
    run_ok(
        encoder(&data, &output)
            .arg("-q")
            .arg("--crops")
            .arg(dir.path().join("faces")),
    );
    let people: Vec<String> = read(&output)
        .images
        .iter()
        .map(|r| r.person.clone())
        .collect();
    assert_eq!(people, ["biden", "obama"]);
}

#[test]
fn ctrl_c_keeps_the_photos_done_and_the_next_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Enough distinct photos (bytes appended after the JPEG's end change the hash, not the
    // picture) that one thread is still busy when Ctrl-C comes.
    let photo = std::fs::read(fixture("obama.jpg")).unwrap();
    let count = 400;
    for i in 0..count {
        let path = data.join(format!("obama/{i:03}.jpg"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut bytes = photo.clone();
        bytes.extend_from_slice(format!("copy {i}").as_bytes());
        std::fs::write(&path, bytes).unwrap();
    }
    copy(&fixture("biden.jpg"), &data.join("biden/biden.jpg"));
    let output = dir.path().join("encodings.msgpack");
    let checkpoint = dir.path().join(".encodings.msgpack.checkpoint");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("encoder"))
        .env("FACE_MODELS_DIR", testdata::models_dir())
        .arg("-d")
        .arg(&data)
        .arg("-f")
        .arg(&output)
        .args(["-j", "1", "-q"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Time to load the models and encode some (the 400 photos take 15 s and more on one thread).
    std::thread::sleep(std::time::Duration::from_secs(5));
    let status = std::process::Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let interrupted = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&interrupted.stderr);
    assert_eq!(interrupted.status.code(), Some(130), "{stderr}");
    assert!(!output.exists(), "no output under the final name");
    assert!(stderr.contains("next run goes on"), "{stderr}");
    let kept = read(&checkpoint).images;
    assert!(
        !kept.is_empty() && kept.len() < count + 1,
        "{} kept",
        kept.len()
    );
    assert!(kept.iter().all(|r| !r.file_sha256.is_empty()));

    // The next run encodes only what is left, and its output is the whole folder.
    let out = encoder(&data, &output).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("resuming the interrupted run: {}", kept.len())),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("{} reused", kept.len())),
        "{stdout}"
    );
    let all = read(&output);
    assert_eq!(all.images.len(), count + 1);
    assert_eq!(all.embeddings().count(), count + 1);
    for record in &kept {
        let again = all.images.iter().find(|r| r.path == record.path).unwrap();
        assert_eq!(again.outcome, record.outcome, "{}", record.path);
    }
    assert!(!checkpoint.exists(), "the checkpoint is gone once used");
}
