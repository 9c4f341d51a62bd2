//! Second tier: the real Hamilton clip, whose video stream starts 0.84 s after its sound (at
//! 0.852 s; the sound at 0.008 s): the labelled video must get its sound back where it was.

use std::process::Command as Process;

use assert_cmd::Command;
use testdata::media::{packet_hashes, stream_duration, stream_start};

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn hamilton_clip_gets_its_sound_back_in_sync() {
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
    // Every sound packet as it was (the sound ends before the last frame: nothing to cut)...
    let audio = packet_hashes(&output, "0:a");
    let original = packet_hashes(&clip, "0:a");
    assert_eq!(audio, original);
    // ...at the same distance from the picture as in the original, to within a frame.
    let frame = 1.0 / 29.97;
    let offset = |file: &std::path::Path| stream_start(file, "a:0") - stream_start(file, "v:0");
    assert!(
        (offset(&output) - offset(&clip)).abs() <= frame,
        "sound starts {:.3} s from the picture, {:.3} s in the original",
        offset(&output),
        offset(&clip)
    );
    assert!(
        (offset(&clip) + 0.844).abs() < 0.01,
        "the clip is as described"
    );
    // The sound never runs past the last frame.
    let end = |file: &std::path::Path, stream: &str| {
        stream_start(file, stream) + stream_duration(file, stream)
    };
    assert!(end(&output, "a:0") <= end(&output, "v:0") + frame);
}
