//! `video-labeler` end to end on a real-face video assembled with ffmpeg from face_recognition's
//! test photos (an unseen photo of Obama, then Biden, with a cut between), and on bad input.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use facefile::format::labels::LabelsFile;
use facefile::format::model::ClassifierFile;
use testdata::command::{run_err, run_ok, run_usage_err};
use testdata::media::{ffmpeg as ffmpeg_in, two_shot_video};

fn ffmpeg(args: &[&str]) {
    ffmpeg_in(Path::new("."), args);
}

fn fixture(name: &str) -> PathBuf {
    testdata::face_recognition_test_images().join(name)
}

/// A few-shot model of Obama (two photos) and Biden (one).
fn train(dir: &Path) -> PathBuf {
    testdata::pipeline::obama_biden_model(dir)
}

/// The labeler with the test models, as a process to spawn and talk to.
fn labeler_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("video-labeler"));
    cmd.env("FACE_MODELS_DIR", testdata::models_dir());
    cmd
}

fn labeler() -> Command {
    Command::from_std(labeler_process())
}

fn probe(video: &Path) -> (u32, u32, String, u64) {
    let out = Process::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=width,height,r_frame_rate,nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(video)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = text.trim().split(',').collect();
    (
        fields[0].parse().unwrap(),
        fields[1].parse().unwrap(),
        fields[2].to_string(),
        fields[3].parse().unwrap(),
    )
}

#[test]
fn labels_each_person_in_their_shot_and_reports_screen_time() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let video = two_shot_video(dir.path(), &fixture("obama3.jpg"), &fixture("biden.jpg"));
    let output = dir.path().join("out dir").join("labeled.mp4");
    std::fs::create_dir_all(output.parent().unwrap()).unwrap();
    let labels_path = dir.path().join("labels.msgpack");
    let json_path = dir.path().join("labels.json");
    let report = dir.path().join("report");
    let stdout = run_ok(
        labeler()
            .arg("-i")
            .arg(&video)
            .arg("-o")
            .arg(&output)
            .arg("-m")
            .arg(&model)
            .arg("--labels")
            .arg(&labels_path)
            .arg("--labels-json")
            .arg(&json_path)
            .arg("--report-dir")
            .arg(&report),
    );

    // Same resolution, frame rate and number of frames as the input.
    assert_eq!(probe(&output), probe(&video));
    let labels = LabelsFile::read(&labels_path).unwrap().body;
    assert_eq!(labels.frames.len(), 40);
    assert_eq!(labels.video.fps, 10.0);
    let named = |range: std::ops::Range<usize>, name: &str| {
        labels.frames[range]
            .iter()
            .filter(|f| {
                f.faces
                    .iter()
                    .any(|face| face.name.as_deref() == Some(name))
            })
            .count()
    };
    assert!(
        named(0..20, "obama") >= 18,
        "obama named in {} of 20 frames",
        named(0..20, "obama")
    );
    assert!(
        named(20..40, "biden") >= 18,
        "biden named in {} of 20 frames",
        named(20..40, "biden")
    );
    assert_eq!(named(20..40, "obama"), 0, "nobody else is labelled Obama");
    assert_eq!(named(0..20, "biden"), 0, "nobody else is labelled Biden");
    // The cut starts a new track: no track spans both shots.
    assert!(
        labels
            .tracks
            .iter()
            .all(|t| t.last_frame < 20 || t.first_frame >= 20),
        "{:?}",
        labels.tracks
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(json["body"]["frames"].as_array().unwrap().len(), 40);
    // Every track says who it might be, named or not.
    assert!(
        labels.tracks.iter().all(|t| !t.candidates.is_empty()),
        "{:?}",
        labels.tracks
    );

    // Screen time: about 2 s each, in the table, the CSV and the chart.
    let csv = std::fs::read_to_string(report.join("screen-time.csv")).unwrap();
    let seconds = |name: &str| -> f64 {
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("\"{name}\"")))
            .unwrap_or_else(|| panic!("{csv}"));
        line.split(',').nth(1).unwrap().parse().unwrap()
    };
    assert!((1.8..=2.0).contains(&seconds("obama")), "{csv}");
    assert!((1.8..=2.0).contains(&seconds("biden")), "{csv}");
    assert!(
        stdout.contains("obama") && stdout.contains("seconds"),
        "{stdout}"
    );
    let chart = facecore::decode_file(&report.join("screen-time.png"), &Default::default())
        .unwrap()
        .image;
    assert!(chart.width() > 300);

    // The drawn video differs from the input where the faces are (boxes were drawn).
    assert_ne!(
        std::fs::read(&output).unwrap(),
        std::fs::read(&video).unwrap()
    );
}

/// Every frame's checksum, as ffmpeg decodes the video.
fn frame_checksums(video: &Path) -> String {
    let out = Process::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args(["-f", "framemd5", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_passes_in_turn_or_side_by_side_give_the_same_labels_and_frames_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let video = two_shot_video(dir.path(), &fixture("obama3.jpg"), &fixture("biden.jpg"));
    let run = |passes: &str, n: u32, codec: &str| {
        let output = dir.path().join(format!("{passes}-{n}-{codec}.mp4"));
        let labels = dir.path().join(format!("{passes}-{n}-{codec}.msgpack"));
        run_ok(
            labeler()
                .arg("-i")
                .arg(&video)
                .arg("-o")
                .arg(&output)
                .arg("-m")
                .arg(&model)
                .arg("--labels")
                .arg(&labels)
                .args(["--passes", passes, "--codec", codec, "-q"]),
        );
        (LabelsFile::read(&labels).unwrap().body, output)
    };
    // mp4v: the same frames always encode the same, so the drawings are compared (x264's threads
    // differ between the modes).
    let (labels, output) = run("in-turn", 1, "mp4v");
    let frames = frame_checksums(&output);
    // Both faces are named, so the runs compare real work.
    let names: std::collections::BTreeSet<_> = labels
        .tracks
        .iter()
        .filter_map(|t| t.name.clone())
        .collect();
    assert_eq!(names, ["biden".to_string(), "obama".to_string()].into());
    for (passes, n) in [("side-by-side", 1), ("side-by-side", 2), ("auto", 1)] {
        let (other_labels, other_output) = run(passes, n, "mp4v");
        assert_eq!(other_labels, labels, "--passes {passes}, run {n}");
        assert_eq!(
            frame_checksums(&other_output),
            frames,
            "--passes {passes}, run {n}"
        );
    }
    // In turn, the way to save memory, x264's threads share frames (its settings are written in
    // the stream); side by side, each takes a frame of its own.
    for (passes, sliced) in [
        ("in-turn", "sliced_threads=1"),
        ("side-by-side", "sliced_threads=0"),
    ] {
        let (other_labels, output) = run(passes, 1, "h264");
        assert_eq!(other_labels, labels, "--passes {passes}, H.264");
        let stream = std::fs::read(&output).unwrap();
        assert!(
            stream.windows(sliced.len()).any(|w| w == sliced.as_bytes()),
            "--passes {passes}: {sliced} not in the stream"
        );
    }
}

#[test]
fn bad_inputs_are_clear_errors_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let output = dir.path().join("labeled.mp4");
    let run = |input: &Path, output: &Path, model: &Path| {
        run_err(
            labeler()
                .arg("-i")
                .arg(input)
                .arg("-o")
                .arg(output)
                .arg("-m")
                .arg(model),
        )
    };

    let err = run(&dir.path().join("missing.mp4"), &output, &model);
    assert!(
        err.contains("missing.mp4") && err.contains("does not exist"),
        "{err}"
    );

    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "not a video\n").unwrap();
    assert!(run(&text, &output, &model).contains("not a video"));

    // A threshold that is no probability: a bad command line, said before any file is read.
    let err = run_usage_err(
        labeler()
            .args(["-t", "2", "-i"])
            .arg(&text)
            .arg("-o")
            .arg(&output)
            .arg("-m")
            .arg(dir.path().join("no-model.msgpack")),
    );
    assert!(
        err.contains("--threshold") && err.contains("between 0 and 1"),
        "{err}"
    );

    // A file with an audio stream and no video frames.
    let audio_only = dir.path().join("audio_only.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=44100:cl=mono",
        "-t",
        "1",
        "-c:a",
        "aac",
        audio_only.to_str().unwrap(),
    ]);
    let err = run(&audio_only, &output, &model);
    assert!(err.contains("audio_only.mp4"), "{err}");

    let video = two_shot_video(dir.path(), &fixture("obama3.jpg"), &fixture("biden.jpg"));
    let err = run(&video, &dir.path().join("no such folder/out.mp4"), &model);
    assert!(err.contains("does not exist"), "{err}");

    // A model trained on embeddings of a model this build does not know.
    let mut foreign = ClassifierFile::read(&model).unwrap();
    foreign.embedder.as_mut().unwrap().files[0].sha256 = "1".repeat(64);
    let foreign_path = dir.path().join("foreign.msgpack");
    foreign.write(&foreign_path).unwrap();
    let err = run(&video, &output, &foreign_path);
    assert!(
        err.contains("does not know") && err.contains("make train"),
        "{err}"
    );
    // A model of one embedder cannot name faces of the other.
    let err = run_err(
        labeler()
            .arg("-i")
            .arg(&video)
            .arg("-o")
            .arg(&output)
            .arg("-m")
            .arg(&model)
            .args(["--embedder", "dlib"]),
    );
    assert!(
        err.contains("trained on sface embeddings") && err.contains("--embedder dlib"),
        "{err}"
    );

    assert!(!output.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().contains("partial")),
        "{leftovers:?}"
    );
}

#[test]
fn an_interrupted_run_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    // A longer video so the run is still going when interrupted.
    let short = two_shot_video(dir.path(), &fixture("obama3.jpg"), &fixture("biden.jpg"));
    let long = dir.path().join("long.mp4");
    ffmpeg(&[
        "-stream_loop",
        "30",
        "-i",
        short.to_str().unwrap(),
        "-c",
        "copy",
        long.to_str().unwrap(),
    ]);
    let output = dir.path().join("labeled.mp4");
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("video-labeler"))
        .env("FACE_MODELS_DIR", testdata::models_dir())
        .arg("-q")
        .arg("-i")
        .arg(&long)
        .arg("-o")
        .arg(&output)
        .arg("-m")
        .arg(&model)
        .spawn()
        .unwrap();
    // Wait until it is writing (its hidden partial file exists), then press Ctrl-C.
    let started = std::time::Instant::now();
    while !std::fs::read_dir(dir.path())
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().contains("partial"))
    {
        assert!(started.elapsed().as_secs() < 60, "never started writing");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Process::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "an interrupted run must not report success"
    );
    assert!(!output.exists(), "no output under the final name");
    let partial = std::fs::read_dir(dir.path())
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().contains("partial"));
    assert!(!partial, "the partial file is removed");
}

#[test]
fn a_photo_is_labelled_and_its_faces_listed_with_their_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let labelled = dir.path().join("labelled.jpg");
    let out = run_ok(
        labeler()
            .arg("-i")
            .arg(fixture("obama3.jpg"))
            .arg("-o")
            .arg(&labelled)
            .arg("-m")
            .arg(&model),
    );
    // The unseen photo of Obama: one face, named, with the candidates in order.
    assert!(out.contains("obama3.jpg: 1 face"), "{out}");
    assert!(out.contains(": obama; candidates: obama "), "{out}");
    let written = facecore::decode_file(&labelled, &Default::default()).unwrap();
    let original = facecore::decode_file(&fixture("obama3.jpg"), &Default::default()).unwrap();
    assert_eq!(
        (written.image.width(), written.image.height()),
        (original.image.width(), original.image.height())
    );
    assert_ne!(
        written.image.pixels(),
        original.image.pixels(),
        "a box was drawn"
    );

    // A folder of photos: each is labelled into the output folder.
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for name in ["obama3.jpg", "biden.jpg"] {
        std::fs::copy(fixture(name), photos.join(name)).unwrap();
    }
    let out = run_ok(
        labeler()
            .arg("-i")
            .arg(&photos)
            .arg("-o")
            .arg(dir.path().join("out"))
            .arg("-m")
            .arg(&model),
    );
    assert!(
        out.contains("biden.jpg: 1 face") && out.contains(": biden; "),
        "{out}"
    );
    assert!(dir.path().join("out/obama3.jpg").is_file());
    assert!(dir.path().join("out/biden.jpg").is_file());
    // The photo is never its own output.
    let err = run_err(
        labeler()
            .arg("-i")
            .arg(photos.join("biden.jpg"))
            .arg("-o")
            .arg(photos.join("biden.jpg"))
            .arg("-m")
            .arg(&model),
    );
    assert!(err.contains("destroy the input"), "{err}");
}

#[test]
fn answers_piped_into_a_reader_that_stops_early_end_quietly() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for i in 0..6 {
        std::fs::copy(fixture("obama3.jpg"), photos.join(format!("obama-{i}.jpg"))).unwrap();
    }
    let answers = dir.path().join("answers.json");
    // `video-labeler … --format csv | head -n 1`: the reader takes the header and goes away while
    // the photos are still being labelled.
    let mut child = labeler_process()
        .args(["-q", "--format", "csv", "-i"])
        .arg(&photos)
        .arg("-m")
        .arg(&model)
        .arg("--labels-json")
        .arg(&answers)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("file,face,name"), "{first}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
    // The file it was asked to write is complete: every photo is in it.
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&answers).unwrap()).unwrap();
    assert_eq!(saved["photos"].as_array().unwrap().len(), 6);
}

/// The columns of one CSV row, unquoted (the test's names have no commas or quotes in them).
fn csv_fields(line: &str) -> Vec<&str> {
    line.split(',')
        .map(|field| field.trim_matches('"'))
        .collect()
}

#[test]
fn photo_answers_are_csv_or_json_on_stdout_without_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for name in ["obama3.jpg", "biden.jpg"] {
        std::fs::copy(fixture(name), photos.join(name)).unwrap();
    }
    // A photo with no face at all is listed too.
    image::RgbImage::from_pixel(64, 64, image::Rgb([90, 90, 90]))
        .save(photos.join("wall.png"))
        .unwrap();

    // CSV, with -q (which quiets the talk, not the answer) and no -o: nothing is written.
    let out = run_ok(
        labeler()
            .args(["-q", "--format", "csv", "-i"])
            .arg(&photos)
            .arg("-m")
            .arg(&model),
    );
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("file,face,name,probability,left,top,right,bottom,best_guess,best_guess_probability")
    );
    let rows: Vec<Vec<&str>> = lines.map(csv_fields).collect();
    assert_eq!(rows.len(), 3, "{out}");
    let row = |file: &str| {
        rows.iter()
            .find(|r| r[0].ends_with(file))
            .unwrap_or_else(|| panic!("no row for {file}: {out}"))
    };
    for (file, person) in [("obama3.jpg", "obama"), ("biden.jpg", "biden")] {
        let r = row(file);
        assert_eq!(r.len(), 10, "{r:?}");
        assert_eq!((r[1], r[2], r[8]), ("1", person, person), "{r:?}");
        let probability: f64 = r[3].parse().unwrap();
        assert!(probability > 0.5 && probability <= 1.0, "{r:?}");
        let [left, top, right, bottom] =
            [r[4], r[5], r[6], r[7]].map(|v| v.parse::<i64>().unwrap());
        assert!(left < right && top < bottom, "{r:?}");
    }
    assert_eq!(row("wall.png")[1..], ["0", "", "", "", "", "", "", "", ""]);
    // Nothing was written: the photos folder holds what it held.
    assert_eq!(std::fs::read_dir(&photos).unwrap().count(), 3);

    // JSON lines: one object per photo, and --labels-json writes them all to a file.
    let answers = dir.path().join("answers.json");
    let out = run_ok(
        labeler()
            .args(["--format", "json", "-i"])
            .arg(&photos)
            .arg("-m")
            .arg(&model)
            .arg("--labels-json")
            .arg(&answers),
    );
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 3, "{out}");
    let obama = objects
        .iter()
        .find(|o| o["file"].as_str().unwrap().ends_with("obama3.jpg"))
        .unwrap();
    assert_eq!(obama["faces"][0]["name"], "obama");
    assert_eq!(obama["faces"][0]["candidates"][0]["name"], "obama");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&answers).unwrap()).unwrap();
    assert_eq!(saved["photos"].as_array().unwrap().len(), 3);
}

#[test]
fn outputs_never_land_on_training_photos_or_files_the_labeler_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let training_photo = dir.path().join("data/obama/obama.jpg");
    let before = std::fs::read(&training_photo).unwrap();
    let label_to = |output: &Path, force: bool| {
        let mut cmd = labeler();
        cmd.arg("-q")
            .arg("-i")
            .arg(fixture("obama3.jpg"))
            .arg("-o")
            .arg(output)
            .arg("-m")
            .arg(&model);
        if force {
            cmd.arg("--force");
        }
        cmd
    };
    // A training photo, or a new file in a person's folder: refused (it would be learned).
    let err = run_err(&mut label_to(&training_photo, false));
    assert!(
        err.contains("a folder the model's photos were read from") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&training_photo).unwrap(), before);
    let new_in_data = dir.path().join("data/biden/labelled.jpg");
    run_err(&mut label_to(&new_in_data, false));
    assert!(!new_in_data.exists());
    // Any other photo that is not one of the labeler's outputs: refused, kept.
    let someone_elses = dir.path().join("holiday.jpg");
    std::fs::copy(fixture("biden.jpg"), &someone_elses).unwrap();
    let err = run_err(&mut label_to(&someone_elses, false));
    assert!(
        err.contains("not a photo this labeler wrote") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&someone_elses).unwrap(),
        std::fs::read(fixture("biden.jpg")).unwrap()
    );
    // Its own previous output is replaced without asking; --force replaces anything.
    let labelled = dir.path().join("labelled.jpg");
    run_ok(&mut label_to(&labelled, false));
    run_ok(&mut label_to(&labelled, false));
    run_ok(&mut label_to(&someone_elses, true));
    assert_ne!(
        std::fs::read(&someone_elses).unwrap(),
        std::fs::read(fixture("biden.jpg")).unwrap()
    );

    // The same for videos: an existing video it did not write is refused, its own is replaced.
    let video = two_shot_video(dir.path(), &fixture("obama3.jpg"), &fixture("biden.jpg"));
    let original = dir.path().join("original.mp4");
    std::fs::copy(&video, &original).unwrap();
    let label_video = |output: &Path| {
        let mut cmd = labeler();
        cmd.arg("-q")
            .arg("-i")
            .arg(&video)
            .arg("-o")
            .arg(output)
            .arg("-m")
            .arg(&model);
        cmd
    };
    let err = run_err(&mut label_video(&original));
    assert!(err.contains("not a video this labeler wrote"), "{err}");
    assert_eq!(
        std::fs::read(&original).unwrap(),
        std::fs::read(&video).unwrap()
    );
    let labelled_video = dir.path().join("labelled.mp4");
    run_ok(&mut label_video(&labelled_video));
    run_ok(&mut label_video(&labelled_video));
    // A video without -o: told what is missing.
    let err = run_usage_err(labeler().arg("-i").arg(&video).arg("-m").arg(&model));
    assert!(err.contains("-o"), "{err}");
}
