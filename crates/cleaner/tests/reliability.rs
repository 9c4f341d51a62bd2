//! The cleaner never loses a photo: not on a full disk, not when killed, not when two files would
//! get one name, not through symbolic links; duplicates inside a folder are found whoever else has
//! the photo.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use testdata::command::{run_err, run_ok};

fn fixture(name: &str) -> PathBuf {
    testdata::face_recognition_test_images().join(name)
}

fn cleaner(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("cleaner").unwrap();
    cmd.arg("-d")
        .arg(data)
        .env("FACE_MODELS_DIR", testdata::models_dir());
    cmd
}

/// A PNG of noise: its JPEG is large.
fn noise_png(path: &Path, side: u32, seed: u32) {
    let mut state = seed.wrapping_mul(2654435761).max(1);
    let image = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
    });
    image
        .save_with_format(path, image::ImageFormat::Png)
        .unwrap();
}

/// A registry photo as an `image` picture (JPEG decoded by libjpeg-turbo, as the pipeline does).
fn open(name: &str) -> image::RgbImage {
    let decoded = facecore::decode_file(&fixture(name), &Default::default())
        .unwrap()
        .image;
    image::RgbImage::from_raw(decoded.width(), decoded.height(), decoded.into_pixels()).unwrap()
}

fn files_under(root: &Path) -> BTreeSet<String> {
    walk(root, root)
}

fn walk(root: &Path, dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(root, &path));
        } else {
            out.insert(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
    out
}

#[test]
fn delete_on_a_full_disk_keeps_the_photo() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("Mina")).unwrap();
    noise_png(&data.join("Mina/noise.png"), 400, 1);
    let before = std::fs::read(data.join("Mina/noise.png")).unwrap();
    // A file-size limit of 100 kB stands in for a full disk: the JPEG (~300 kB) cannot be written.
    let out = Process::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 100; exec \"$@\"")
        .arg("cleaner")
        .arg(assert_cmd::cargo::cargo_bin("cleaner"))
        .args(["--no-face-check", "--delete", "-d"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("noise.png"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read(data.join("Mina/noise.png")).unwrap(),
        before,
        "the photo is kept"
    );
    assert!(
        !files_under(&data).iter().any(|f| f.contains("partial")),
        "{:?}",
        files_under(&data)
    );
}

#[test]
fn killing_the_cleaner_never_loses_a_photo() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("Mina")).unwrap();
    let stems: Vec<String> = (0..150).map(|i| format!("p{i:03}")).collect();
    for (i, stem) in stems.iter().enumerate() {
        noise_png(
            &data.join("Mina").join(format!("{stem}.png")),
            160,
            i as u32 + 1,
        );
    }
    for delay in [150, 300, 450] {
        let mut child = Process::new(assert_cmd::cargo::cargo_bin("cleaner"))
            .args(["-q", "--no-face-check", "--delete", "-j", "1", "-d"])
            .arg(&data)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = Process::new("kill")
            .arg("-KILL")
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
    }
    run_ok(cleaner(&data).args(["-q", "--no-face-check", "--delete"]));
    let files = files_under(&data);
    for stem in &stems {
        assert!(
            files.contains(&format!("Mina/{stem}.jpg"))
                || files.contains(&format!("Mina/{stem}.png")),
            "{stem} was lost: {files:?}"
        );
    }
    assert!(
        !files.iter().any(|f| f.contains("partial")),
        "left-overs: {files:?}"
    );
}

#[test]
fn two_files_never_take_one_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("Mina")).unwrap();
    std::fs::copy(fixture("obama.jpg"), data.join("Mina/p.jpg")).unwrap();
    open("obama2.jpg")
        .save_with_format(data.join("Mina/p.png"), image::ImageFormat::Png)
        .unwrap();
    open("biden.jpg")
        .save_with_format(data.join("Mina/p.webp"), image::ImageFormat::WebP)
        .unwrap();
    run_ok(cleaner(&data).args(["-q", "--no-face-check"]));
    let files = files_under(&data);
    for expected in [
        "Mina/p.jpg",
        "Mina/p-2.jpg",
        "Mina/p-3.jpg",
        ".quarantine/Mina/p.png",
        ".quarantine/Mina/p.webp",
    ] {
        assert!(files.contains(expected), "{expected} missing: {files:?}");
    }
}

#[test]
fn a_duplicate_in_a_folder_is_quarantined_even_if_another_person_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for file in ["Chaeyoung/x.jpg", "Mina/x.jpg", "Mina/x copy.jpg"] {
        std::fs::create_dir_all(data.join(file).parent().unwrap()).unwrap();
        std::fs::copy(fixture("obama.jpg"), data.join(file)).unwrap();
    }
    let out = run_ok(cleaner(&data).arg("--no-face-check"));
    // Of the two copies in Mina's folder one stays (flagged: Chaeyoung has it too), one goes.
    let quarantined = out
        .lines()
        .filter(|l| l.starts_with("quarantined Mina/"))
        .collect::<Vec<_>>();
    assert_eq!(quarantined.len(), 1, "{out}");
    assert!(quarantined[0].contains("exact duplicate of Mina/"), "{out}");
    assert!(
        out.contains("the same photo is also filed as Chaeyoung/x.jpg"),
        "{out}"
    );
    assert_eq!(std::fs::read_dir(data.join("Mina")).unwrap().count(), 1);
}

#[test]
fn links_are_followed_to_photos_never_written_through_and_loops_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let elsewhere = dir.path().join("collection");
    std::fs::create_dir_all(data.join("Mina")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(fixture("obama.jpg"), data.join("Mina/a.jpg")).unwrap();
    open("obama2.jpg")
        .save_with_format(elsewhere.join("b.png"), image::ImageFormat::Png)
        .unwrap();
    let collection_png = std::fs::read(elsewhere.join("b.png")).unwrap();
    let link = |target: &Path, at: &str| std::os::unix::fs::symlink(target, data.join(at)).unwrap();
    link(&elsewhere.join("b.png"), "Mina/b.png"); // a photo kept elsewhere
    link(&data.join("Mina/a.jpg"), "Mina/a-again.jpg"); // a second way to the same photo
    link(&data.join("Mina"), "Mina/loop"); // a loop
    let out = cleaner(&data)
        .args(["--no-face-check", "--delete"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("link loop") && stderr.contains("a-again.jpg is a link to"),
        "{stderr}"
    );
    // The photo in the folder is kept (not taken for a duplicate of its link), the linked PNG is
    // converted into the folder, and the file it pointed to is untouched.
    assert!(data.join("Mina/a.jpg").is_file());
    assert!(data.join("Mina/b.jpg").is_file());
    assert_eq!(
        std::fs::read(elsewhere.join("b.png")).unwrap(),
        collection_png
    );
}

#[test]
fn a_folder_that_is_not_there_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_err(&mut cleaner(&dir.path().join("nope")));
    assert!(err.contains("does not exist"), "{err}");
}
