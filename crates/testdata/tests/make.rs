//! `make all` as a new user drives it (issue 18's table): each stage is redone when what it reads
//! changed — a person folder's photos, the video's content — and only then; paths with spaces
//! work; each group has its own workspace. Real photos (face_recognition's test images), offline.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use facefile::format::labels::LabelsFile;
use facefile::format::model::ClassifierFile;
use facefile::format::tracks::TracksFile;

struct Workspace {
    root: PathBuf,
}

impl Workspace {
    fn new(dir: &Path) -> Workspace {
        let photos = testdata::face_recognition_test_images();
        let data = dir.join("data/grp");
        for (person, files) in [
            ("obama", &["obama.jpg", "obama2.jpg"][..]),
            ("biden", &["biden.jpg"]),
        ] {
            std::fs::create_dir_all(data.join(person)).unwrap();
            for file in files {
                std::fs::copy(photos.join(file), data.join(person).join(file)).unwrap();
            }
        }
        Workspace {
            root: dir.to_path_buf(),
        }
    }

    fn data(&self) -> PathBuf {
        self.root.join("data/grp")
    }

    fn out(&self) -> PathBuf {
        self.root.join("out/grp")
    }

    /// A video of `seconds` of a photo, 10 fps.
    fn video(&self, name: &str, photo: &str, seconds: u32) -> PathBuf {
        let path = self.root.join(name);
        let status = Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y", "-loop", "1", "-t", &seconds.to_string(), "-i"])
            .arg(testdata::face_recognition_test_images().join(photo))
            .args(["-vf", "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,fps=10"])
            .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        path
    }

    /// `make TARGET` in this workspace (GROUP, MEMBERS, VIDEO as given; offline, no build).
    fn make(&self, target: &str, group: &str, members: &str, video: &Path) -> Output {
        self.make_with(target, group, members, video, &[])
    }

    /// The same with more variables (`SAY=…`).
    fn make_with(
        &self,
        target: &str,
        group: &str,
        members: &str,
        video: &Path,
        more: &[String],
    ) -> Output {
        let bin = testdata::pipeline::binary("encoder")
            .parent()
            .unwrap()
            .to_path_buf();
        Command::new("make")
            .current_dir(testdata::workspace_root())
            .arg(target)
            .arg(format!("GROUP={group}"))
            .arg(format!("MEMBERS={members}"))
            .arg(format!(
                "DATA={}",
                self.root.join("data").join(group).display()
            ))
            .arg(format!(
                "OUT={}",
                self.root.join("out").join(group).display()
            ))
            .arg(format!("VIDEO={}", video.display()))
            .arg(format!("BIN={}", bin.display()))
            .args(["DOWNLOAD_FLAGS=--offline", "STRANGERS=0", "NO_BUILD=1"])
            .args(more)
            .env("FACE_MODELS_DIR", testdata::models_dir())
            .output()
            .unwrap()
    }

    fn make_ok(&self, target: &str, video: &Path) -> String {
        let out = self.make(target, "grp", "obama biden", video);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "make {target} failed:\n{text}");
        text
    }

    fn labelled_from(&self) -> String {
        LabelsFile::read(&self.out().join("labels.msgpack"))
            .unwrap()
            .body
            .video
            .path
    }
}

fn ran(output: &str, program: &str) -> bool {
    output
        .lines()
        .any(|l| l.contains(&format!("/{program} ")) && !l.starts_with("make"))
}

#[test]
fn stages_are_redone_when_what_they_read_changes_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::new(dir.path());
    // A file name with a space, as fans' files have.
    let input = ws.video("my clip.mp4", "obama3.jpg", 2);
    let first = ws.make_ok("all", &input);
    for program in [
        "cleaner",
        "encoder",
        "svm-trainer",
        "video-labeler",
        "audio-merger",
    ] {
        assert!(ran(&first, program), "{program} did not run:\n{first}");
    }
    assert!(ws.out().join("final.mp4").is_file());
    assert_eq!(ws.labelled_from(), input.display().to_string());

    // Nothing changed: nothing is redone (the encoder only looks, and leaves its file as it was).
    let again = ws.make_ok("all", &input);
    for program in ["cleaner", "svm-trainer", "video-labeler", "audio-merger"] {
        assert!(!ran(&again, program), "{program} ran for nothing:\n{again}");
    }

    // An HTML error page saved as a photo, and a photo of someone else, put in the folders by
    // hand: the cleaner runs again (before, only a download did that) and the page is updated.
    std::fs::write(
        ws.data().join("obama/broken.jpg"),
        "<html><body>404 Not Found</body></html>",
    )
    .unwrap();
    std::fs::copy(
        testdata::face_recognition_test_images().join("biden.jpg"),
        ws.data().join("obama/not-obama.jpg"),
    )
    .unwrap();
    let after_edit = ws.make_ok("all", &input);
    assert!(ran(&after_edit, "cleaner"), "{after_edit}");
    assert!(ws.data().join(".quarantine/obama/broken.jpg").is_file());
    let review = std::fs::read_to_string(ws.data().join("review.html")).unwrap();
    assert!(
        review.contains("broken.jpg"),
        "the review page is the new one"
    );

    // Another video labelled by hand, then `make all`: the labels and the final video are the
    // input's again, not the other video's with the input's sound.
    let other = ws.video("other.mp4", "biden.jpg", 3);
    ws.make_ok("label", &other);
    assert_eq!(ws.labelled_from(), other.display().to_string());
    let back = ws.make_ok("all", &input);
    assert!(
        ran(&back, "video-labeler") && ran(&back, "audio-merger"),
        "{back}"
    );
    assert_eq!(ws.labelled_from(), input.display().to_string());
    let frames = LabelsFile::read(&ws.out().join("labels.msgpack"))
        .unwrap()
        .body
        .frames
        .len();
    assert_eq!(frames, 20, "2 s at 10 fps: the input's frames");

    // A different video under an older date is still a different video.
    let older = ws.video("older.mp4", "obama2.jpg", 1);
    let status = Command::new("touch")
        .args(["-d", "2001-01-01"])
        .arg(&older)
        .status()
        .unwrap();
    assert!(status.success());
    let relabelled = ws.make_ok("all", &older);
    assert!(ran(&relabelled, "video-labeler"), "{relabelled}");
    assert_eq!(ws.labelled_from(), older.display().to_string());
}

#[test]
fn each_group_has_its_own_workspace_and_a_member_without_photos_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::new(dir.path());
    let input = ws.video("clip.mp4", "obama3.jpg", 1);
    ws.make_ok("all", &input);
    let model = ClassifierFile::read(&ws.out().join("model.msgpack")).unwrap();
    assert_eq!(model.body.classes, ["biden", "obama"]);

    // Another group, offline, with a member nobody has photos of: it fails and says who…
    let out = ws.make("all", "aespa", "Karina", &input);
    assert!(!out.status.success());
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(errors.contains("Karina"), "{errors}");
    // … leaves no empty folder that later runs would take for a member …
    assert!(!dir.path().join("data/aespa/Karina").exists());
    // … and never touches the first group's photos or model.
    let again = ClassifierFile::read(&ws.out().join("model.msgpack")).unwrap();
    assert_eq!(again, model);
    assert!(!ws.data().join("Karina").exists());

    // A group without members named is told how to name them.
    let out = ws.make("all", "aespa", "", &input);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MEMBERS="));

    // `make clean` removes what was made for the group, never the photos.
    let cleaned = ws.make("clean", "grp", "obama biden", &input);
    assert!(cleaned.status.success());
    assert!(!ws.out().exists());
    assert!(ws.data().join("obama/obama.jpg").is_file());
}

#[test]
fn a_track_taught_with_make_teach_is_learned_by_the_next_make_all() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::new(dir.path());
    let input = ws.video("my clip.mp4", "obama3.jpg", 2);
    ws.make_ok("all", &input);
    // Without corrections: the tracks, and how to correct one.
    let listed = ws.make_ok("teach", &input);
    assert!(
        listed.contains("tracks of") && listed.contains("TRACKS=PERSON"),
        "{listed}"
    );
    let saved = TracksFile::read(&ws.out().join("tracks/tracks.msgpack"))
        .unwrap()
        .body;
    let track = saved.tracks.first().expect("a track of Obama");
    let before = std::fs::read_dir(ws.data().join("obama")).unwrap().count();
    let out = ws.make_with(
        "teach",
        "grp",
        "obama biden",
        &input,
        &[format!("SAY={}=obama", track.id)],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("copied"), "{text}");
    assert!(std::fs::read_dir(ws.data().join("obama")).unwrap().count() > before);
    // The next `make all` cleans, encodes, trains and labels again, with the new photos.
    let again = ws.make_ok("all", &input);
    for program in [
        "cleaner",
        "encoder",
        "svm-trainer",
        "video-labeler",
        "audio-merger",
    ] {
        assert!(ran(&again, program), "{program} did not run:\n{again}");
    }
    let model = ClassifierFile::read(&ws.out().join("model.msgpack"))
        .unwrap()
        .body;
    let obama = model.classes.iter().position(|c| c == "obama").unwrap();
    assert!(
        model.summary.samples_per_class[obama] > 2,
        "{:?}",
        model.summary
    );
}
