//! The whole pipeline, end to end, as a user runs it.
//!
//! `scripts/demo.sh` (what `make demo` runs) — cleaner, encoder, svm-trainer, video-labeler and
//! audio-merger on real photos from PyPI — and the labels checked against what the demo video
//! shows: 3 s of an unseen photo of Obama, then 3 s of a mirrored Biden.

use std::process::Command;

use testdata::media::stream_duration;

#[test]
fn demo_pipeline_labels_what_the_video_shows() {
    let root = testdata::workspace_root();
    let bin = testdata::pipeline::binary("audio-merger")
        .parent()
        .unwrap()
        .to_path_buf();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let status = Command::new("bash")
        .arg(root.join("scripts/demo.sh"))
        .arg(&out)
        .current_dir(&root)
        .env("BIN", &bin)
        .env("FACE_MODELS_DIR", testdata::models_dir())
        .status()
        .unwrap();
    assert!(status.success(), "scripts/demo.sh failed");

    let labels = facefile::format::labels::LabelsFile::read(&out.join("labels.msgpack"))
        .unwrap()
        .body;
    assert_eq!(labels.frames.len(), 90, "6 s at 15 fps");
    let named = |frames: std::ops::Range<usize>, name: &str| {
        labels.frames[frames]
            .iter()
            .filter(|f| f.faces.iter().any(|x| x.name.as_deref() == Some(name)))
            .count()
    };
    assert!(
        named(0..45, "obama") >= 41,
        "Obama named in {} of 45 frames",
        named(0..45, "obama")
    );
    assert!(
        named(45..90, "biden") >= 41,
        "Biden named in {} of 45 frames",
        named(45..90, "biden")
    );
    assert_eq!(
        named(0..45, "biden") + named(45..90, "obama"),
        0,
        "nobody is given the other's name"
    );

    // The cleaner quarantined the error page and converted the PNG; the final video has the sound,
    // cut where the video ends (the tone ran 7 s).
    assert!(out.join("data/.quarantine/obama/broken.jpg").is_file());
    assert!(out.join("data/obama/obama2_copy.jpg").is_file());
    let final_video = out.join("final.mp4");
    let (video, audio) = (
        stream_duration(&final_video, "v:0"),
        stream_duration(&final_video, "a:0"),
    );
    assert!(
        (video - 6.0).abs() < 0.1 && (video - audio).abs() <= 1.0 / 15.0,
        "video {video} s, audio {audio} s"
    );
    let csv = std::fs::read_to_string(out.join("report/screen-time.csv")).unwrap();
    assert!(
        csv.contains("\"obama\",") && csv.contains("\"biden\","),
        "{csv}"
    );
}

/// `make all` as a fan with her own photos runs it: nine folders of TWICE photos (links to the
/// shared dev set, read in place), a clip, no network (`--offline`, so a machine with internet
/// behaves the same), and it must end with the labelled video and the report page.
#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn make_all_runs_offline_on_your_own_photos() {
    let root = testdata::workspace_root();
    let dev = testdata::shared_data().join("twice-dev");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut members = Vec::new();
    for entry in std::fs::read_dir(dev.join("photos")).unwrap() {
        let person = entry.unwrap().path();
        let name = person.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::create_dir_all(data.join(&name)).unwrap();
        for photo in std::fs::read_dir(&person).unwrap() {
            let photo = photo.unwrap().path();
            std::os::unix::fs::symlink(&photo, data.join(&name).join(photo.file_name().unwrap()))
                .unwrap();
        }
        members.push(name);
    }
    members.sort();
    let csv = std::fs::read_to_string(dev.join("clips/clips.csv")).unwrap();
    let clip = csv
        .lines()
        .skip(1)
        .find(|l| !l.contains(",stranger,") && !l.contains(",group,"))
        .and_then(|l| l.split(',').next())
        .unwrap();
    let work = |name: &str| format!("{}", dir.path().join(name).display());
    let status = Command::new("make")
        .current_dir(&root)
        .arg("all")
        .arg(format!("DATA={}", data.display()))
        .arg(format!("MEMBERS={}", members.join(" ")))
        .arg(format!("VIDEO={}", dev.join("clips").join(clip).display()))
        .arg(format!("ENCODINGS={}", work("encodings.msgpack")))
        .arg(format!("MODEL={}", work("model.msgpack")))
        .arg(format!("REPORT={}", work("model-report.json")))
        .arg(format!("CONFUSION={}", work("confusion.png")))
        .arg(format!("LABELED={}", work("labeled.mp4")))
        .arg(format!("LABELS={}", work("labels.msgpack")))
        .arg(format!("REPORT_DIR={}", work("report")))
        .arg(format!("FINAL={}", work("final.mp4")))
        .arg("DOWNLOAD_FLAGS=--offline")
        .env("FACE_MODELS_DIR", testdata::models_dir())
        .status()
        .unwrap();
    assert!(status.success(), "make all failed");
    // Every member was kept from the user's own photos, cleaned, encoded and learned.
    for member in &members {
        assert!(
            data.join(member).join("manifest.msgpack").is_file(),
            "{member}"
        );
    }
    assert!(data.join("clean-report.msgpack").is_file());
    let model = facefile::format::model::ClassifierFile::read(&dir.path().join("model.msgpack"))
        .unwrap()
        .body;
    assert_eq!(model.classes, members);
    // The result: a playable video and the page.
    let final_video = dir.path().join("final.mp4");
    assert!(stream_duration(&final_video, "v:0") > 0.5);
    let page = std::fs::read_to_string(dir.path().join("report/index.html")).unwrap();
    assert_eq!(
        page.matches("class=\"row\" data-person=").count(),
        members.len()
    );
    // The shared photos were only read: every link still points at an untouched file.
    for entry in std::fs::read_dir(dev.join("photos")).unwrap() {
        assert!(std::fs::read_dir(entry.unwrap().path()).unwrap().count() > 0);
    }
}
