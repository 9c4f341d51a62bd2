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
