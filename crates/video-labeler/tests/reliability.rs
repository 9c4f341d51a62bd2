//! The labeler's promises under hostile input (issue 10's battery): rotated phone videos, variable
//! frame rates, odd sizes, outputs that are inputs, devices, a full disk, names FFmpeg would read as
//! URLs, raw streams without timing, and stale partial files of killed runs.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use facefile::format::labels::LabelsFile;
use testdata::command::{run_err, run_ok};
use testdata::media::ffmpeg;

fn fixture(name: &str) -> PathBuf {
    testdata::face_recognition_test_images().join(name)
}

fn labeler() -> Command {
    let mut cmd = Command::cargo_bin("video-labeler").unwrap();
    cmd.env("FACE_MODELS_DIR", testdata::models_dir());
    cmd
}

/// A few-shot model of Obama (two photos) and Biden (one).
fn train(dir: &Path) -> PathBuf {
    testdata::pipeline::obama_biden_model(dir)
}

/// 2 s of an unseen photo of Obama, `width`×`height`, 10 fps, H.264.
fn obama_video(dir: &Path, name: &str, width: u32, height: u32) -> PathBuf {
    let out = dir.join(name);
    let fit = format!(
        "scale={width}:{height}:force_original_aspect_ratio=decrease,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10"
    );
    ffmpeg(
        dir,
        &[
            "-loop",
            "1",
            "-t",
            "2",
            "-i",
            fixture("obama3.jpg").to_str().unwrap(),
            "-vf",
            &fit,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            &format!("file:{name}"),
        ],
    );
    out
}

fn label(video: &Path, output: &Path, model: &Path, labels: &Path) -> String {
    run_ok(
        labeler()
            .arg("-i")
            .arg(video)
            .arg("-o")
            .arg(output)
            .arg("-m")
            .arg(model)
            .arg("--labels")
            .arg(labels),
    )
}

/// Frame `n` of a video as ffmpeg shows it (rotation applied), as a 32×18 grey thumbnail.
fn thumbnail(video: &Path, n: u32) -> Vec<u8> {
    let out = Process::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(video)
        .args([
            "-vf",
            &format!("select=eq(n\\,{n}),scale=32:18,format=gray"),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn difference(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y) as f64)
        .sum::<f64>()
        / a.len() as f64
}

fn size(video: &Path) -> (u32, u32) {
    let out = Process::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(video)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().split(',').map(|v| v.parse().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}

#[test]
fn phone_videos_are_labelled_upright_as_ffmpeg_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    obama_video(dir.path(), "upright.mp4", 640, 360);
    // Stored sideways (as a phone stores a portrait video), with each rotation tag.
    ffmpeg(
        dir.path(),
        &[
            "-i",
            "file:upright.mp4",
            "-vf",
            "transpose=2",
            "-c:v",
            "libx264",
            "file:sideways.mp4",
        ],
    );
    for rotate in ["90", "180", "270"] {
        let tagged = dir.path().join(format!("r{rotate}.mp4"));
        ffmpeg(
            dir.path(),
            &[
                "-i",
                "file:sideways.mp4",
                "-c",
                "copy",
                "-metadata:s:v:0",
                &format!("rotate={rotate}"),
                &format!("file:r{rotate}.mp4"),
            ],
        );
        let output = dir.path().join(format!("labelled-{rotate}.mp4"));
        let labels = dir.path().join(format!("labels-{rotate}.msgpack"));
        label(&tagged, &output, &model, &labels);
        // The same picture and size as ffmpeg shows, not turned the other way.
        assert_eq!(size(&output), {
            let (w, h) = size(&tagged);
            if rotate == "180" {
                (w, h)
            } else {
                (h, w)
            }
        });
        let shown = thumbnail(&tagged, 10);
        let written = thumbnail(&output, 10);
        assert!(
            difference(&shown, &written) < 20.0,
            "rotate={rotate}: not as ffmpeg shows it"
        );
        let labels = LabelsFile::read(&labels).unwrap().body;
        let rotation: u32 = match rotate {
            "90" => 270,
            "270" => 90,
            _ => 180,
        };
        assert_eq!(labels.video.rotation, rotation);
        if rotate == "270" {
            // Upright: Obama is found and named in his frames.
            let named = labels
                .frames
                .iter()
                .filter(|f| f.faces.iter().any(|x| x.name.as_deref() == Some("obama")))
                .count();
            assert!(
                named >= 15,
                "rotate=270: Obama named in {named} of 20 frames"
            );
        }
    }
}

#[test]
fn variable_frame_rates_stay_in_sync_and_odd_sizes_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    // 1 s at 10 fps, then 2 s at 2 fps, timestamps kept (variable frame rate).
    ffmpeg(
        dir.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=10:duration=1",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=2:duration=2",
            "-filter_complex",
            "[0][1]concat=n=2:v=1[v]",
            "-map",
            "[v]",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "file:vfr.mp4",
        ],
    );
    let output = dir.path().join("vfr-labelled.mp4");
    let labels_path = dir.path().join("vfr.msgpack");
    label(&dir.path().join("vfr.mp4"), &output, &model, &labels_path);
    let labels = LabelsFile::read(&labels_path).unwrap().body;
    let times: Vec<f64> = labels.frames.iter().map(|f| f.time).collect();
    assert!(times.windows(2).all(|w| w[1] > w[0]), "{times:?}");
    let last = *times.last().unwrap();
    assert!(
        last > 1.9,
        "the last frame is at its own time, not the average rate's: {times:?}"
    );
    // The output shows each frame at its time: it lasts as long as the input.
    let duration = testdata::media::stream_duration(&output, "v:0");
    assert!(
        (duration - (last + 0.1)).abs() <= 0.15,
        "output {duration} s, last frame at {last} s"
    );

    // 641×361: H.264 needs even sizes, so a black column and row are added; nothing is cut.
    let odd = obama_video(dir.path(), "odd.mp4", 641, 361);
    let output = dir.path().join("odd-labelled.mp4");
    let labels_path = dir.path().join("odd.msgpack");
    let out = labeler()
        .arg("-i")
        .arg(&odd)
        .arg("-o")
        .arg(&output)
        .arg("-m")
        .arg(&model)
        .arg("--labels")
        .arg(&labels_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("padded to 642×362"),
        "{out:?}"
    );
    assert_eq!(size(&output), (642, 362));
    let labels = LabelsFile::read(&labels_path).unwrap().body;
    assert_eq!((labels.video.width, labels.video.height), (641, 361));
}

#[test]
fn outputs_that_are_inputs_devices_and_url_like_names() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let video = obama_video(dir.path(), "clip.mp4", 320, 240);
    let before = std::fs::read(&video).unwrap();
    let labelled = dir.path().join("labelled.mp4");
    let run = |args: &[&Path]| {
        let mut cmd = labeler();
        cmd.arg("-i").arg(&video).arg("-m").arg(&model);
        for pair in args.chunks(2) {
            cmd.arg(pair[0]).arg(pair[1]);
        }
        run_err(&mut cmd)
    };
    let (o, lj, l) = (
        Path::new("-o"),
        Path::new("--labels-json"),
        Path::new("--labels"),
    );
    for (args, expected) in [
        (vec![o, video.as_path()], "destroy the input"),
        (
            vec![o, labelled.as_path(), lj, video.as_path()],
            "destroy the input",
        ),
        (
            vec![o, labelled.as_path(), l, model.as_path()],
            "destroy the input",
        ),
        (
            vec![o, labelled.as_path(), l, labelled.as_path()],
            "same file",
        ),
    ] {
        let err = run(&args);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert_eq!(
        std::fs::read(&video).unwrap(),
        before,
        "the input is intact"
    );
    assert!(model.is_file());
    // A device is not a video file.
    let err = run(&[o, Path::new("/dev/null")]);
    assert!(err.contains("not a regular file"), "{err}");
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());

    // Names are files, never FFmpeg URLs or protocols.
    let odd_name = dir.path().join("concat:clip.mp4|clip.mp4");
    std::fs::copy(&video, &odd_name).unwrap();
    run_ok(
        labeler()
            .arg("-q")
            .arg("-i")
            .arg(&odd_name)
            .arg("-o")
            .arg(&labelled)
            .arg("-m")
            .arg(&model),
    );
    let err = run_err(
        labeler()
            .arg("-i")
            .arg("http://127.0.0.1:9/x.mp4")
            .arg("-o")
            .arg(&labelled)
            .arg("-m")
            .arg(&model),
    );
    assert!(err.contains("does not exist"), "{err}");

    // A raw MJPEG stream has no timing: said, not guessed as 25 fps.
    ffmpeg(
        dir.path(),
        &[
            "-i",
            "file:clip.mp4",
            "-c:v",
            "mjpeg",
            "-f",
            "mjpeg",
            "file:raw.mjpeg",
        ],
    );
    let err = run_err(
        labeler()
            .arg("-i")
            .arg(dir.path().join("raw.mjpeg"))
            .arg("-o")
            .arg(&labelled)
            .arg("-m")
            .arg(&model),
    );
    assert!(
        err.contains("frame rate is unknown") && err.contains("ffmpeg -r"),
        "{err}"
    );
}

#[test]
fn a_full_disk_leaves_the_old_output_and_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let video = obama_video(dir.path(), "clip.mp4", 640, 480);
    let output = dir.path().join("labelled.mp4");
    // The result of an earlier run, which a failed run must leave as it was.
    run_ok(
        labeler()
            .arg("-q")
            .arg("-i")
            .arg(&video)
            .arg("-o")
            .arg(&output)
            .arg("-m")
            .arg(&model),
    );
    let old_result = std::fs::read(&output).unwrap();
    let labels = dir.path().join("labels.msgpack");
    // A file-size limit of 8 kB stands in for a full disk: writes beyond it fail (EFBIG).
    let status = Process::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 8; exec \"$@\"")
        .arg("labeler")
        .arg(assert_cmd::cargo::cargo_bin("video-labeler"))
        .env("FACE_MODELS_DIR", testdata::models_dir())
        .arg("-q")
        .arg("-i")
        .arg(&video)
        .arg("-o")
        .arg(&output)
        .arg("-m")
        .arg(&model)
        .arg("--labels")
        .arg(&labels)
        .output()
        .unwrap();
    assert!(
        !status.status.success(),
        "a run that could not write its video must fail"
    );
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("labelled.mp4"), "{stderr}");
    assert!(std::fs::read(&output).unwrap() == old_result);
    assert!(
        !labels.exists(),
        "nothing is written when the video is not complete"
    );
    let partial = std::fs::read_dir(dir.path())
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().contains("partial"));
    assert!(!partial, "the partial file is removed");

    // A killed run's partial file is removed by the next run.
    let stale = dir.path().join(".labelled.mp4.partial-4194305.mp4");
    std::fs::write(&stale, b"left by a killed run").unwrap();
    run_ok(
        labeler()
            .arg("-q")
            .arg("-i")
            .arg(&video)
            .arg("-o")
            .arg(&output)
            .arg("-m")
            .arg(&model),
    );
    assert!(!stale.exists());
}

/// When the first frame brighter than mid-grey is shown, and when the sound first gets loud, in a
/// file as a player decodes it (edit lists applied): seconds.
fn flash_and_beep(video: &Path) -> (f64, f64) {
    let probe = |graph: String, tag: &str| -> Vec<(f64, f64)> {
        let out = Process::new("ffprobe")
            .args(["-v", "error", "-f", "lavfi", "-i", &graph])
            .args(["-show_entries", &format!("frame=pts_time:frame_tags={tag}")])
            .args(["-of", "csv=p=0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (t, v) = l.split_once(',')?;
                Some((t.parse().ok()?, v.parse().ok()?))
            })
            .collect()
    };
    let name = video.to_str().unwrap();
    let flash = probe(
        format!("movie={name},signalstats"),
        "lavfi.signalstats.YAVG",
    )
    .into_iter()
    .find(|&(_, y)| y > 128.0)
    .expect("a flash")
    .0;
    let beep = probe(
        format!("amovie={name},astats=metadata=1:reset=1"),
        "lavfi.astats.Overall.RMS_level",
    )
    .into_iter()
    .find(|&(_, db)| db > -30.0)
    .expect("a beep")
    .0;
    (flash, beep)
}

#[test]
fn picture_and_sound_stay_in_sync_when_the_video_starts_after_the_sound() {
    // A flash at 2 s of a video, a beep at 3 s of a sound; the video stream is put 1 s late in
    // the container (as the Hamilton clip's is, by 0.84 s): both at 3 s.
    let dir = tempfile::tempdir().unwrap();
    ffmpeg(
        dir.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=320x240:r=30:d=5,drawbox=c=white:t=fill:enable='between(t,2,2.04)'",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "v.mp4",
        ],
    );
    ffmpeg(
        dir.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=f=1000:d=6,volume=0:enable='not(between(t,3,3.2))'",
            "-c:a",
            "aac",
            "a.m4a",
        ],
    );
    ffmpeg(
        dir.path(),
        &[
            "-itsoffset",
            "1",
            "-i",
            "v.mp4",
            "-i",
            "a.m4a",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c",
            "copy",
            "in.mp4",
        ],
    );
    let input = dir.path().join("in.mp4");
    let (flash, beep) = flash_and_beep(&input);
    assert!(
        (flash - 3.0).abs() < 0.05 && (beep - 3.0).abs() < 0.05,
        "{flash} {beep}"
    );

    let model = train(dir.path());
    let labelled = dir.path().join("labelled.mp4");
    run_ok(
        labeler()
            .arg("-q")
            .arg("-i")
            .arg(&input)
            .arg("-o")
            .arg(&labelled)
            .arg("-m")
            .arg(&model),
    );
    let final_video = dir.path().join("final.mp4");
    run_ok(
        Process::new(testdata::pipeline::binary("audio-merger"))
            .arg("-q")
            .arg("-i")
            .arg(&input)
            .arg("-p")
            .arg(&labelled)
            .arg("-o")
            .arg(&final_video),
    );
    let (flash, beep) = flash_and_beep(&final_video);
    // Within a frame (AAC frames are 21 ms).
    assert!(
        (flash - beep).abs() <= 1.0 / 30.0 + 0.025,
        "flash at {flash:.3} s, beep at {beep:.3} s"
    );

    // A labelled video from elsewhere that starts at 0 is moved to where the original's starts.
    let at_zero = dir.path().join("at-zero.mp4");
    ffmpeg(
        dir.path(),
        &[
            "-i",
            "labelled.mp4",
            "-c",
            "copy",
            "-output_ts_offset",
            "0",
            "at-zero.mp4",
        ],
    );
    let starts = |video: &Path| {
        let out = Process::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=start_time",
            ])
            .args(["-of", "csv=p=0"])
            .arg(video)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<f64>()
            .unwrap()
    };
    assert!(starts(&at_zero) < 0.01, "{}", starts(&at_zero));
    let from_zero = dir.path().join("from-zero.mp4");
    run_ok(
        Process::new(testdata::pipeline::binary("audio-merger"))
            .arg("-q")
            .arg("-i")
            .arg(&input)
            .arg("-p")
            .arg(&at_zero)
            .arg("-o")
            .arg(&from_zero),
    );
    let (flash, beep) = flash_and_beep(&from_zero);
    assert!(
        (flash - beep).abs() <= 1.0 / 30.0 + 0.025,
        "flash at {flash:.3} s, beep at {beep:.3} s"
    );

    // The two videos given the wrong way round: refused, and nothing written.
    let swapped = dir.path().join("swapped.mp4");
    let err = run_err(
        Process::new(testdata::pipeline::binary("audio-merger"))
            .arg("-i")
            .arg(&labelled)
            .arg("-p")
            .arg(&input)
            .arg("-o")
            .arg(&swapped),
    );
    assert!(
        err.contains("wrong way round") && err.contains("swap them"),
        "{err}"
    );
    assert!(!swapped.exists());
}

#[test]
fn frames_too_large_and_codecs_that_cannot_hold_them_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let video = obama_video(dir.path(), "obama.mp4", 1920, 1080);
    let output = dir.path().join("out.mp4");
    // Frames of 2 megapixels against a limit of 1 (the default, 40, refuses 8192×8192).
    let err = run_err(
        labeler()
            .arg("-i")
            .arg(&video)
            .arg("-o")
            .arg(&output)
            .arg("-m")
            .arg(&model)
            .args(["--max-megapixels", "1"]),
    );
    assert!(
        err.contains("obama.mp4") && err.contains("1920×1080") && err.contains("--max-megapixels"),
        "{err}"
    );
    // A very wide video cannot be MPEG-4 part 2: a bad command line, said.
    ffmpeg(
        dir.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=8200x16:d=0.4:r=5",
            "-c:v",
            "libx264",
            "wide.mkv",
        ],
    );
    let err = testdata::command::run_usage_err(
        labeler()
            .arg("-i")
            .arg(dir.path().join("wide.mkv"))
            .arg("-o")
            .arg(&output)
            .arg("-m")
            .arg(&model)
            .args(["--codec", "mp4v"]),
    );
    assert!(err.contains("--codec mp4v cannot write 8200×16"), "{err}");
    assert!(!output.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
