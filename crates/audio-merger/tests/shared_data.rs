//! Second tier: the real Hamilton clip, whose AAC track runs 0.8 s past its last frame.

use std::process::Command as Process;

use assert_cmd::Command;
use testdata::media::{packet_hashes, stream_duration};

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn hamilton_clip_gets_its_sound_back_cut_at_the_last_frame() {
    let clip = testdata::shared_data().join("face_recognition/examples/short_hamilton_clip.mp4");
    let dir = tempfile::tempdir().unwrap();
    // A processed video as the labeler writes it: re-encoded, no sound.
    let processed = dir.path().join("labeled.mp4");
    let status = Process::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(&clip)
        .args([
            "-fps_mode",
            "passthrough",
            "-an",
            "-vf",
            "drawbox=x=100:y=50:w=120:h=120:color=yellow",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&processed)
        .status()
        .unwrap();
    assert!(status.success());
    let output = dir.path().join("final.mp4");
    Command::cargo_bin("audio-merger")
        .unwrap()
        .arg("-i")
        .arg(&clip)
        .arg("-p")
        .arg(&processed)
        .arg("-o")
        .arg(&output)
        .assert()
        .success();

    let video = packet_hashes(&output, "0:v");
    assert_eq!(video, packet_hashes(&processed, "0:v"));
    assert_eq!(video.len(), 275);
    let audio = packet_hashes(&output, "0:a");
    let original = packet_hashes(&clip, "0:a");
    assert!(audio.len() < original.len());
    assert_eq!(audio[..], original[..audio.len()]);
    let frame = 1.0 / 29.97;
    let (v, a) = (
        stream_duration(&output, "v:0"),
        stream_duration(&output, "a:0"),
    );
    assert!((v - a).abs() <= frame, "video {v} s, audio {a} s");
    // The original's sound really ran past the video: the cut did something.
    assert!(stream_duration(&clip, "a:0") > v + 0.5);
}
