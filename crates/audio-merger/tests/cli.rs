//! `audio-merger` on clips made with ffmpeg (a test pattern with a tone that runs 0.8 s past the
//! last frame, like the Hamilton clip's), with awkward file names, and on bad input.

use std::path::Path;
use std::process::Command as Process;

use testdata::media::{ffmpeg, packet_hashes, stream_duration};

use assert_cmd::Command;

/// `original`: 3 s of 25 fps test pattern and 3.8 s of AAC tone; `processed`: the video re-encoded
/// with a box drawn on it and no sound, as the labeler makes it.
fn make_clips(dir: &Path, original: &str, processed: &str) {
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=3",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=3.8",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            &format!("file:{original}"),
        ],
    );
    ffmpeg(
        dir,
        &[
            "-i",
            &format!("file:{original}"),
            "-an",
            "-vf",
            "drawbox=x=40:y=40:w=80:h=80:color=red",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            &format!("file:{processed}"),
        ],
    );
}

#[test]
fn copies_video_packets_and_cuts_audio_at_the_last_frame_with_awkward_names() {
    let dir = tempfile::tempdir().unwrap();
    let (original, processed, output) = (
        "-original 나연's \"clip\".mp4",
        "processed clip.mp4",
        "-final 결과.mp4",
    );
    make_clips(dir.path(), original, processed);
    let out = Command::cargo_bin("audio-merger")
        .unwrap()
        .current_dir(dir.path())
        .arg(format!("--input={original}"))
        .arg(format!("--processed={processed}"))
        .arg(format!("--output={output}"))
        .args(["-a", "sound.m4a"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The video is copied: every packet identical to the processed video's.
    let processed_video = packet_hashes(&dir.path().join(processed), "0:v");
    assert_eq!(
        packet_hashes(&dir.path().join(output), "0:v"),
        processed_video
    );
    assert_eq!(processed_video.len(), 75);
    // The audio is the original's, packet for packet, up to the end of the video.
    let merged_audio = packet_hashes(&dir.path().join(output), "0:a");
    let original_audio = packet_hashes(&dir.path().join(original), "0:a");
    assert!(
        merged_audio.len() < original_audio.len(),
        "the 0.8 s past the video is cut"
    );
    assert_eq!(merged_audio[..], original_audio[..merged_audio.len()]);
    // Durations agree within one frame (40 ms).
    let (video, audio) = (
        stream_duration(&dir.path().join(output), "v:0"),
        stream_duration(&dir.path().join(output), "a:0"),
    );
    assert!(
        (video - audio).abs() <= 0.04,
        "video {video} s, audio {audio} s"
    );
    // The kept sound file, and the processed video is kept by default.
    assert!(stream_duration(&dir.path().join("sound.m4a"), "a:0") <= video + 0.04);
    assert!(dir.path().join(processed).exists());
    // No temporary files are left.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
}

#[test]
fn remove_processed_and_transcoding_for_other_containers() {
    let dir = tempfile::tempdir().unwrap();
    make_clips(dir.path(), "original.mp4", "processed.mp4");
    // Opus audio in the original cannot go into MP4 as is: it is converted to AAC.
    ffmpeg(
        dir.path(),
        &[
            "-i",
            "original.mp4",
            "-c:v",
            "copy",
            "-c:a",
            "libopus",
            "original.mkv",
        ],
    );
    Command::cargo_bin("audio-merger")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "-i",
            "original.mkv",
            "-p",
            "processed.mp4",
            "-o",
            "final.mp4",
            "--remove-processed",
        ])
        .assert()
        .success();
    let codec = Process::new("ffprobe")
        .current_dir(dir.path())
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            "final.mp4",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&codec.stdout).trim(), "aac");
    assert!(
        !dir.path().join("processed.mp4").exists(),
        "removed when asked"
    );
}

#[test]
fn a_silent_original_gives_the_labelled_video_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    make_clips(dir.path(), "original.mp4", "processed.mp4");
    let out = testdata::command::run_ok(
        Command::cargo_bin("audio-merger")
            .unwrap()
            .current_dir(dir.path())
            .args([
                "-i",
                "processed.mp4",
                "-p",
                "processed.mp4",
                "-o",
                "final.mp4",
            ]),
    );
    assert!(out.contains("no sound"), "{out}");
    let final_video = dir.path().join("final.mp4");
    assert_eq!(
        packet_hashes(&final_video, "0:v"),
        packet_hashes(&dir.path().join("processed.mp4"), "0:v")
    );
    let streams = Process::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
        ])
        .arg(&final_video)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&streams.stdout).trim(), "video");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    make_clips(dir.path(), "original.mp4", "processed.mp4");
    let merge = |args: &[&str]| {
        let out = Command::cargo_bin("audio-merger")
            .unwrap()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    };
    // A device is no place for a video that must be checked: refused, and nothing created in /dev.
    let err = merge(&[
        "-i",
        "original.mp4",
        "-p",
        "processed.mp4",
        "-o",
        "/dev/null",
    ]);
    assert!(err.contains("/dev/null is not a regular file"), "{err}");
    assert!(std::fs::read_dir("/dev").unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains(".partial-")));
    // No output may be an input or another output; --remove-processed never removes the original.
    for args in [
        &[
            "-i",
            "original.mp4",
            "-p",
            "processed.mp4",
            "-o",
            "original.mp4",
        ][..],
        &[
            "-i",
            "original.mp4",
            "-p",
            "processed.mp4",
            "-o",
            "processed.mp4",
        ],
        &[
            "-i",
            "original.mp4",
            "-p",
            "processed.mp4",
            "-o",
            "out.mp4",
            "-a",
            "original.mp4",
        ],
        &[
            "-i",
            "original.mp4",
            "-p",
            "processed.mp4",
            "-o",
            "out.mp4",
            "-a",
            "out.mp4",
        ],
    ] {
        let err = merge(args);
        assert!(
            err.contains("destroy the input") || err.contains("same file"),
            "{args:?}: {err}"
        );
    }
    let err = merge(&[
        "-i",
        "original.mp4",
        "-p",
        "./original.mp4",
        "-o",
        "out.mp4",
        "--remove-processed",
    ]);
    assert!(
        err.contains("--remove-processed would delete the original"),
        "{err}"
    );
    assert!(dir.path().join("original.mp4").is_file());
    std::fs::write(dir.path().join("notes.mp4"), "not a video").unwrap();
    let err = merge(&["-i", "notes.mp4", "-p", "processed.mp4", "-o", "out.mp4"]);
    assert!(
        err.contains("notes.mp4") && err.contains("not a media file"),
        "{err}"
    );
    let err = merge(&["-i", "missing.mp4", "-p", "processed.mp4", "-o", "out.mp4"]);
    assert!(
        err.contains("missing.mp4") && err.contains("does not exist"),
        "{err}"
    );
    let err = merge(&[
        "-i",
        "original.mp4",
        "-p",
        "processed.mp4",
        "-o",
        "no/such/dir/out.mp4",
    ]);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!dir.path().join("out.mp4").exists());

    // No ffmpeg on the PATH.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("audio-merger")
        .unwrap()
        .current_dir(dir.path())
        .env("PATH", empty.path())
        .args(["-i", "original.mp4", "-p", "processed.mp4", "-o", "out.mp4"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ffprobe is not installed") || err.contains("ffmpeg is not installed"),
        "{err}"
    );
}

/// A run of audio-merger through `bash` with a file-size limit of `kilobytes`: writes beyond it fail
/// (EFBIG), as on a full disk.
fn merge_with_size_limit(dir: &Path, kilobytes: u32, args: &[&str]) -> std::process::Output {
    Process::new("bash")
        .current_dir(dir)
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kilobytes}; exec \"$@\""))
        .arg("merger")
        .arg(assert_cmd::cargo::cargo_bin("audio-merger"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_full_disk_is_a_failure_and_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    make_clips(dir.path(), "original.mp4", "processed.mp4");
    std::fs::write(dir.path().join("final.mp4"), b"the old result").unwrap();
    let out = merge_with_size_limit(
        dir.path(),
        16,
        &[
            "-i",
            "original.mp4",
            "-p",
            "processed.mp4",
            "-o",
            "final.mp4",
            "-a",
            "sound.m4a",
        ],
    );
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("final.mp4"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("final.mp4")).unwrap(),
        b"the old result"
    );
    assert!(!dir.path().join("sound.m4a").exists());
    let partial = std::fs::read_dir(dir.path())
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().contains("partial"));
    assert!(!partial, "the partial file is removed");
}

/// ffmpeg processes whose command line mentions `needle`.
fn ffmpeg_running(needle: &str) -> bool {
    let out = Process::new("pgrep").args(["-f", needle]).output().unwrap();
    out.status.success()
}

#[test]
fn stopping_the_merger_stops_ffmpeg_and_removes_its_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    // A long original whose sound must be converted (PCM into MP4), so ffmpeg works a while.
    ffmpeg(
        dir.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=5:duration=600",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=600",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "pcm_s16le",
            "file:long.mkv",
        ],
    );
    ffmpeg(
        dir.path(),
        &[
            "-i",
            "file:long.mkv",
            "-an",
            "-c:v",
            "copy",
            "file:processed.mkv",
        ],
    );
    for (signal, name) in [("-INT", "stopped.mp4"), ("-KILL", "killed.mp4")] {
        let mut child = Process::new(assert_cmd::cargo::cargo_bin("audio-merger"))
            .current_dir(dir.path())
            .args(["-i", "long.mkv", "-p", "processed.mkv", "-o", name])
            .spawn()
            .unwrap();
        let partial_of = || {
            std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with(&format!(".{name}.partial-")))
        };
        let started = std::time::Instant::now();
        while partial_of().is_none() {
            assert!(
                started.elapsed().as_secs() < 60,
                "ffmpeg never started writing"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let partial = partial_of().unwrap();
        assert!(Process::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .unwrap()
            .success());
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "{signal}: a stopped run must not report success"
        );
        // ffmpeg does not outlive the merger, whatever the signal.
        let started = std::time::Instant::now();
        while ffmpeg_running(&partial) {
            assert!(
                started.elapsed().as_secs() < 10,
                "{signal}: ffmpeg is still running"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(!dir.path().join(name).exists());
        if signal == "-INT" {
            assert!(
                partial_of().is_none(),
                "the partial file is removed on Ctrl-C"
            );
        } else {
            // SIGKILL cannot be caught: the next run removes what the killed one left.
            assert!(partial_of().is_some());
            make_clips(dir.path(), "short.mp4", "short-processed.mp4");
            testdata::command::run_ok(
                Command::cargo_bin("audio-merger")
                    .unwrap()
                    .current_dir(dir.path())
                    .args([
                        "-q",
                        "-i",
                        "short.mp4",
                        "-p",
                        "short-processed.mp4",
                        "-o",
                        name,
                    ]),
            );
            assert!(
                partial_of().is_none(),
                "the killed run's partial file is cleaned up"
            );
        }
    }
}
