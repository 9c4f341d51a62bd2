//! Where tests find their real data. Every location can be overridden by an environment variable,
//! and a missing location fails the test with the command that provides it (tests never skip).
//!
//! - models: `FACE_MODELS_DIR`, else `<workspace>/models` (`make models`)
//! - fetched fixtures: `FACE_FIXTURES_DIR`, else `<workspace>/.cache/fixtures` (`make fixtures`)
//! - shared datasets (second tier): `FACELABEL_SHARED`, else `<workspace>/../shared`

use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn located(var: &str, default: PathBuf, fix: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or(default);
    assert!(
        path.is_dir(),
        "{} not found (set {var} or {fix})",
        path.display()
    );
    path
}

/// The folder with dlib's model files.
pub fn models_dir() -> PathBuf {
    located(
        "FACE_MODELS_DIR",
        workspace_root().join("models"),
        "run `make models`",
    )
}

/// `test_images/` of the face_recognition 1.3.0 sdist.
pub fn face_recognition_test_images() -> PathBuf {
    let root = located(
        "FACE_FIXTURES_DIR",
        workspace_root().join(".cache/fixtures"),
        "run `make fixtures`",
    );
    let dir = root.join("face_recognition/test_images");
    assert!(
        dir.is_dir(),
        "{} not found: run `make fixtures`",
        dir.display()
    );
    dir
}

/// The read-only shared folder (with `data/` and `fixtures/`) used by the second tier of tests.
pub fn shared_dir() -> PathBuf {
    located(
        "FACELABEL_SHARED",
        workspace_root().join("../shared"),
        "put the shared folder beside the repository",
    )
}

/// `<shared>/data`.
pub fn shared_data() -> PathBuf {
    shared_dir().join("data")
}

/// Local HTTP servers standing in for web services.
pub mod fake_http;

/// Media helpers for tests, through the ffmpeg and ffprobe programs (installed by `make deps`).
pub mod media {
    use std::path::Path;
    use std::process::Command;

    /// Runs ffmpeg (quiet, overwriting) in `dir`; panics with the arguments if it fails.
    pub fn ffmpeg(dir: &Path, args: &[&str]) {
        let status = Command::new("ffmpeg")
            .current_dir(dir)
            .args(["-loglevel", "error", "-nostdin", "-y"])
            .args(args)
            .status()
            .expect("ffmpeg is installed (make deps)");
        assert!(status.success(), "ffmpeg {args:?} failed");
    }

    /// 2 s of the photo `first`, then 2 s of `second`, 640×480 at 10 fps, H.264, as
    /// `dir/two shots.mp4` (a space in the name on purpose).
    pub fn two_shot_video(dir: &Path, first: &Path, second: &Path) -> std::path::PathBuf {
        let out = dir.join("two shots.mp4");
        let fit = "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10";
        ffmpeg(
            Path::new("."),
            &[
                "-loop",
                "1",
                "-t",
                "2",
                "-i",
                first.to_str().unwrap(),
                "-loop",
                "1",
                "-t",
                "2",
                "-i",
                second.to_str().unwrap(),
                "-filter_complex",
                &format!("[0]{fit}[a];[1]{fit}[b];[a][b]concat=n=2:v=1[v]"),
                "-map",
                "[v]",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                out.to_str().unwrap(),
            ],
        );
        out
    }

    fn file_arg(file: &Path) -> std::ffi::OsString {
        let mut arg = std::ffi::OsString::from("file:");
        arg.push(file.as_os_str());
        arg
    }

    /// Per-packet MD5s of one stream (`0:v`, `0:a`), copied as they are (ffmpeg's framemd5 muxer).
    pub fn packet_hashes(file: &Path, stream: &str) -> Vec<String> {
        let out = Command::new("ffmpeg")
            .args(["-loglevel", "error", "-i"])
            .arg(file_arg(file))
            .args(["-map", stream, "-c", "copy", "-f", "framemd5", "-"])
            .output()
            .expect("ffmpeg is installed (make deps)");
        assert!(out.status.success(), "framemd5 of {}", file.display());
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.rsplit(',').next().unwrap().trim().to_string())
            .collect()
    }

    /// Duration in seconds of one stream (`v:0`, `a:0`), as ffprobe reports it.
    pub fn stream_duration(file: &Path, stream: &str) -> f64 {
        stream_entry(file, stream, "duration")
    }

    /// When one stream (`v:0`, `a:0`) starts in the container's timeline, in seconds.
    pub fn stream_start(file: &Path, stream: &str) -> f64 {
        stream_entry(file, stream, "start_time")
    }

    fn stream_entry(file: &Path, stream: &str, entry: &str) -> f64 {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                stream,
                "-show_entries",
                &format!("stream={entry}"),
                "-of",
                "csv=p=0",
            ])
            .arg(file_arg(file))
            .output()
            .expect("ffprobe is installed (make deps)");
        let text = String::from_utf8(out.stdout).unwrap();
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("no {entry} for {stream} of {}: {text:?}", file.display()))
    }
}

/// Running a stage in a test: one place that checks the exit status and shows what the program
/// printed when it is not the expected one (as ripgrep's `TestCommand::output`).
pub mod command {
    use std::process::Output;

    /// A program to run: `std::process::Command` or `assert_cmd::Command`.
    pub trait Runnable: std::fmt::Debug {
        fn run_output(&mut self) -> Output;
    }

    impl Runnable for std::process::Command {
        fn run_output(&mut self) -> Output {
            self.output().expect("the program runs")
        }
    }

    impl Runnable for assert_cmd::Command {
        fn run_output(&mut self) -> Output {
            self.output().expect("the program runs")
        }
    }

    fn describe(command: &dyn Runnable, output: &Output) -> String {
        format!(
            "{command:?}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }

    /// Runs `command`, which must succeed; returns its standard output.
    pub fn run_ok(command: &mut impl Runnable) -> String {
        let output = command.run_output();
        assert!(
            output.status.success(),
            "expected success: {}",
            describe(command, &output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs `command`, which must be refused as a bad command line (exit code 2, like clap's own
    /// errors); returns its error output.
    pub fn run_usage_err(command: &mut impl Runnable) -> String {
        let output = command.run_output();
        assert_eq!(
            output.status.code(),
            Some(2),
            "expected a bad command line: {}",
            describe(command, &output)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Runs `command`, which must fail with exit code 1 (an error, not a crash or a usage
    /// message); returns its error output.
    pub fn run_err(command: &mut impl Runnable) -> String {
        let output = command.run_output();
        assert_eq!(
            output.status.code(),
            Some(1),
            "expected a clean failure: {}",
            describe(command, &output)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

/// A real browser for tests of the report page: Debian's `chromium`, headless, with no network.
pub mod browser {
    use std::path::Path;
    use std::process::Command;

    fn chromium(profile: &Path) -> Command {
        let path = std::env::var_os("CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into());
        assert!(
            Path::new(&path).exists(),
            "{} not found: install Debian's chromium (scripts/install-deps.sh --tests) or set CHROMIUM",
            Path::new(&path).display()
        );
        let mut command = Command::new(path);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--allow-file-access-from-files",
            ])
            .arg(format!("--user-data-dir={}", profile.display()));
        command
    }

    /// The page's DOM after its scripts ran.
    pub fn dump_dom(page: &Path, profile: &Path) -> String {
        let out = chromium(profile)
            .arg("--virtual-time-budget=3000")
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success(),
            "chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A PNG screenshot of the page.
    pub fn screenshot(page: &Path, profile: &Path, png: &Path, width: u32, height: u32) {
        let out = chromium(profile)
            .arg(format!("--window-size={width},{height}"))
            .arg("--virtual-time-budget=3000")
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success() && png.is_file(),
            "chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The real stages, run as a user would, for tests of later stages.
pub mod pipeline {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The path of a workspace binary built beside the running test.
    pub fn binary(name: &str) -> PathBuf {
        let dir = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        let path = dir.join(name);
        assert!(
            path.is_file(),
            "{} is not built (run the tests with `cargo test --workspace`)",
            path.display()
        );
        path
    }

    /// Encodes `data/<person>/` with the encoder and trains a model on it with svm-trainer, in
    /// `work`; returns the model's path.
    pub fn encode_and_train(data: &Path, work: &Path) -> PathBuf {
        let encodings = work.join("encodings.msgpack");
        let model = work.join("model.msgpack");
        let status = Command::new(binary("encoder"))
            .env("FACE_MODELS_DIR", super::models_dir())
            .arg("-q")
            .arg("-d")
            .arg(data)
            .arg("-f")
            .arg(&encodings)
            .status()
            .unwrap();
        assert!(status.success(), "encoder failed");
        let status = Command::new(binary("svm-trainer"))
            .arg("-q")
            .arg("-i")
            .arg(&encodings)
            .arg("-o")
            .arg(&model)
            .status()
            .unwrap();
        assert!(status.success(), "svm-trainer failed");
        model
    }

    /// A few-shot model of Obama (two photos) and Biden (one) from face_recognition's test
    /// images, trained in `work` by the real encoder and trainer; returns the model's path.
    pub fn obama_biden_model(work: &Path) -> PathBuf {
        let data = work.join("data");
        for (person, photo) in [
            ("obama", "obama.jpg"),
            ("obama", "obama2.jpg"),
            ("biden", "biden.jpg"),
        ] {
            std::fs::create_dir_all(data.join(person)).unwrap();
            std::fs::copy(
                super::face_recognition_test_images().join(photo),
                data.join(person).join(photo),
            )
            .unwrap();
        }
        encode_and_train(&data, work)
    }
}
