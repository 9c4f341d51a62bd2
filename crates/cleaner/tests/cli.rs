//! The cleaner on a scraped-looking folder built from real photos (face_recognition's test images)
//! and every kind of bad file a scraper leaves behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use testdata::command::run_ok;

fn fixture(name: &str) -> PathBuf {
    testdata::face_recognition_test_images().join(name)
}

fn decode(path: &Path) -> facecore::RgbImage {
    facecore::decode_file(path, &Default::default())
        .unwrap()
        .image
}

fn to_image(rgb: &facecore::RgbImage) -> image::RgbImage {
    image::RgbImage::from_raw(rgb.width(), rgb.height(), rgb.pixels().to_vec()).unwrap()
}

/// A crop of a photo (a different picture of the same face, as scraped sites serve).
fn crop(name: &str, left: f32, top: f32, size: f32) -> image::RgbImage {
    let photo = to_image(&decode(&fixture(name)));
    let (w, h) = photo.dimensions();
    let side = (w.min(h) as f32 * size) as u32;
    image::imageops::crop_imm(
        &photo,
        (w as f32 * left) as u32,
        (h as f32 * top) as u32,
        side,
        side,
    )
    .to_image()
}

fn write_jpeg(image: &image::RgbImage, path: &Path) {
    let rgb = facecore::RgbImage::new(image.width(), image.height(), image.as_raw().clone());
    std::fs::write(path, facecore::encode_jpeg(&rgb, 90).unwrap()).unwrap();
}

/// A CMYK JPEG as Photoshop writes them, through libjpeg-turbo.
fn write_cmyk_jpeg(source: &Path, path: &Path) {
    let rgb = decode(source);
    let cmyk: Vec<u8> = rgb
        .pixels()
        .chunks_exact(3)
        .flat_map(|p| {
            // Adobe-inverted CMYK with no black: 255 - ink.
            [p[0], p[1], p[2], 255]
        })
        .collect();
    let image = turbojpeg::Image {
        pixels: cmyk.as_slice(),
        width: rgb.width() as usize,
        pitch: rgb.width() as usize * 4,
        height: rgb.height() as usize,
        format: turbojpeg::PixelFormat::CMYK,
    };
    let mut compressor = turbojpeg::Compressor::new().unwrap();
    compressor.set_quality(90);
    std::fs::write(path, compressor.compress_to_vec(image).unwrap()).unwrap();
}

fn write_gif(frames: &[image::RgbImage], path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = image::codecs::gif::GifEncoder::new(file);
    for frame in frames {
        let rgba = image::DynamicImage::ImageRgb8(frame.clone()).to_rgba8();
        encoder.encode_frame(image::Frame::new(rgba)).unwrap();
    }
}

fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir(root)
}

fn walkdir(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&path).unwrap_or_default(),
                );
            }
        }
    }
    out
}

/// momo: four real Obama photos plus every kind of bad file; sana: three Biden crops, a misfiled
/// Obama photo and an Obama photo also filed under momo.
fn scraped_folder(data: &Path) {
    let momo = data.join("momo");
    let sana = data.join("sana");
    std::fs::create_dir_all(&momo).unwrap();
    std::fs::create_dir_all(&sana).unwrap();
    std::fs::copy(fixture("obama.jpg"), momo.join("obama.jpg")).unwrap();
    std::fs::copy(fixture("obama3.jpg"), momo.join("obama3.jpg")).unwrap();
    std::fs::copy(fixture("obama.jpg"), momo.join("copy of obama.jpg")).unwrap();
    to_image(&decode(&fixture("obama2.jpg")))
        .save_with_format(momo.join("obama2.jpg"), image::ImageFormat::Png)
        .unwrap();
    write_cmyk_jpeg(&fixture("obama3.jpg"), &momo.join("cmyk.jpg"));
    write_gif(
        &[
            crop("obama.jpg", 0.1, 0.0, 0.9),
            crop("biden.jpg", 0.0, 0.0, 0.5),
        ],
        &momo.join("animated.gif"),
    );
    let mut webp = std::io::Cursor::new(Vec::new());
    crop("obama3.jpg", 0.0, 0.0, 0.8)
        .write_to(&mut webp, image::ImageFormat::WebP)
        .unwrap();
    std::fs::write(momo.join("webp named.jpg"), webp.get_ref()).unwrap();
    let jpeg = std::fs::read(fixture("obama2.jpg")).unwrap();
    std::fs::write(momo.join("obama2 named.png"), &jpeg).unwrap();
    std::fs::write(momo.join("truncated.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    std::fs::write(
        momo.join("error.jpg"),
        b"<html><body>429 Too Many Requests</body></html>",
    )
    .unwrap();
    std::fs::write(momo.join("empty.jpg"), b"").unwrap();
    image::RgbImage::from_fn(300, 200, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    })
    .save(momo.join("landscape.png"))
    .unwrap();

    write_jpeg(&crop("biden.jpg", 0.0, 0.0, 0.7), &sana.join("b1.jpg"));
    write_jpeg(&crop("biden.jpg", 0.15, 0.05, 0.6), &sana.join("b2.jpg"));
    write_jpeg(&crop("biden.jpg", 0.05, 0.1, 0.8), &sana.join("b3.jpg"));
    write_jpeg(
        &crop("obama2.jpg", 0.0, 0.0, 1.0),
        &sana.join("misfiled.jpg"),
    );
    std::fs::copy(fixture("obama3.jpg"), sana.join("same as momo.jpg")).unwrap();
}

fn cleaner(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("cleaner").unwrap();
    cmd.arg("-d")
        .arg(data)
        .env("FACE_MODELS_DIR", testdata::models_dir());
    cmd
}

#[test]
fn dry_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    scraped_folder(&data);
    let before = tree(&data);
    let stdout = run_ok(cleaner(&data).arg("--dry-run"));
    assert!(
        stdout.contains("would be quarantined momo/truncated.jpg"),
        "{stdout}"
    );
    assert!(stdout.contains("dry run"), "{stdout}");
    assert_eq!(tree(&data), before, "a dry run must not touch a file");
}

#[test]
fn cleans_a_scraped_folder_without_losing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    scraped_folder(&data);
    let before = tree(&data);
    let stdout = run_ok(&mut cleaner(&data));
    let after = tree(&data);

    // Problem files are in the quarantine, with their reasons logged.
    let quarantined = |name: &str| after.contains_key(&format!(".quarantine/momo/{name}"));
    // Of two identical files, one stays and one goes.
    let copies = ["obama.jpg", "copy of obama.jpg"];
    assert_eq!(
        copies
            .iter()
            .filter(|n| after.contains_key(&format!("momo/{n}")))
            .count(),
        1
    );
    assert_eq!(copies.iter().filter(|n| quarantined(n)).count(), 1);
    for name in ["truncated.jpg", "error.jpg", "empty.jpg", "landscape.png"] {
        assert!(
            quarantined(name),
            "{name} not quarantined: {:?}",
            after.keys().collect::<Vec<_>>()
        );
        assert!(!after.contains_key(&format!("momo/{name}")));
    }
    let log = String::from_utf8(after[".quarantine/log.tsv"].clone()).unwrap();
    assert!(
        log.contains("truncated JPEG") && log.contains("HTML page") && log.contains("empty file"),
        "{log}"
    );
    assert!(
        log.contains("exact duplicate of momo/") && log.contains("no face found"),
        "{log}"
    );

    // Converted to JPEG (originals kept in the quarantine), JPEG under a wrong name renamed.
    for (converted, original) in [
        ("obama2.jpg", "obama2.jpg"),
        ("cmyk.jpg", "cmyk.jpg"),
        ("animated.jpg", "animated.gif"),
        ("webp named.jpg", "webp named.jpg"),
    ] {
        let path = data.join("momo").join(converted);
        let decoded = facecore::decode_file(&path, &Default::default()).unwrap();
        assert_eq!(decoded.format, "JPEG", "{converted}");
        assert!(!decoded.cmyk, "{converted} still CMYK");
        assert!(
            quarantined(original) || quarantined(&format!("2-{original}")),
            "original of {converted} kept"
        );
    }
    assert!(after.contains_key("momo/obama2 named.jpg"));
    assert_eq!(
        after["momo/obama2 named.jpg"], before["momo/obama2 named.png"],
        "renamed, not re-encoded"
    );
    // The GIF's first frame (Obama), not the second (Biden): the face matches obama.jpg.
    let first_frame = decode(&data.join("momo/animated.jpg"));
    assert!(first_frame.width() > 100);

    // Nothing is lost: every original byte sequence is still somewhere under data/.
    for (name, bytes) in &before {
        assert!(after.values().any(|b| b == bytes), "{name} was lost");
    }

    // Flags for a human: the same photo under two people, the misfiled photo, near duplicates.
    assert!(
        stdout.contains(
            "check sana/same as momo.jpg: the same photo is also filed as momo/obama3.jpg"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("check sana/misfiled.jpg: looks more like momo"),
        "{stdout}"
    );
    let review = String::from_utf8(after["review.html"].clone()).unwrap();
    assert!(
        review.contains("misfiled.jpg") && review.contains("looks more like momo"),
        "review page"
    );
    assert!(
        review.contains(".quarantine/momo/truncated.jpg"),
        "quarantined files are shown from their new place"
    );
    // The misfiled photo's card shows the face the check used, as a box inside the picture.
    let card = review
        .split("<figure>")
        .find(|card| card.contains("looks more like momo"))
        .unwrap();
    let face = card
        .split("class=\"face\" style=\"")
        .nth(1)
        .expect("a face box");
    let numbers: Vec<f64> = face
        .split('"')
        .next()
        .unwrap()
        .split(';')
        .map(|part| {
            part.split(':')
                .nth(1)
                .unwrap()
                .trim_end_matches('%')
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(numbers.len(), 4, "{face}");
    assert!(numbers.iter().all(|v| (0.0..=100.0).contains(v)), "{face}");
    assert!(numbers[2] > 5.0 && numbers[3] > 5.0, "{face}");
    assert!(!card.contains("truncated.jpg"));
    let report: serde_json::Value = serde_json::from_slice(&after["clean-report.json"]).unwrap();
    assert_eq!(report["kind"], "facelabel-clean-report");
    let people = &report["body"]["people"];
    assert_eq!(people["momo"]["files"], 12);
    assert_eq!(people["momo"]["quarantined"], 5);
    assert_eq!(people["momo"]["converted"], 4);
    assert_eq!(people["momo"]["renamed"], 1);
    assert!(after.contains_key("clean-report.msgpack"));

    // Cleaning again finds nothing more to do.
    let stdout = run_ok(&mut cleaner(&data));
    assert!(
        !stdout.contains("quarantined momo") && !stdout.contains("converted momo"),
        "{stdout}"
    );
}

#[test]
fn delete_removes_problem_files_and_no_face_check_needs_no_models() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    scraped_folder(&data);
    let stdout = run_ok(
        Command::cargo_bin("cleaner")
            .unwrap()
            .arg("-d")
            .arg(&data)
            .args(["--delete", "--no-face-check"])
            .env("FACE_MODELS_DIR", dir.path().join("no-models")),
    );
    let after = tree(&data);
    assert!(
        !after.keys().any(|k| k.starts_with(".quarantine/momo/")),
        "{:?}",
        after.keys().collect::<Vec<_>>()
    );
    assert!(!after.contains_key("momo/truncated.jpg"));
    // Without face checks the landscape (no face) stays, converted to JPEG.
    assert!(after.contains_key("momo/landscape.jpg"));
    assert!(stdout.contains("no face checks"));
}
