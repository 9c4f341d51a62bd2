//! The correction loop end to end with the real binaries: label a video with `--save-tracks`, say
//! who a track is, and the encoder learns its faces as photos of that person.

use std::path::{Path, PathBuf};
use std::process::Command;

use facefile::format::encodings::EncodingsFile;
use facefile::format::manifest::ManifestFile;
use facefile::format::tracks::TracksFile;
use testdata::command::{run_err, run_ok};
use testdata::pipeline::binary;

fn fixture(name: &str) -> PathBuf {
    testdata::face_recognition_test_images().join(name)
}

fn teach(tracks: &Path, data: &Path) -> Command {
    let mut cmd = Command::new(binary("teach"));
    cmd.arg("--tracks").arg(tracks).arg("-d").arg(data);
    cmd
}

fn photos_in(folder: &Path) -> Vec<PathBuf> {
    let mut photos: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    photos.retain(|p| p.extension().is_some_and(|e| e == "jpg"));
    photos.sort();
    photos
}

#[test]
fn a_corrected_track_becomes_training_photos_with_its_origin() {
    let dir = tempfile::tempdir().unwrap();
    let model = testdata::pipeline::obama_biden_model(dir.path());
    let data = dir.path().join("data");
    let video =
        testdata::media::two_shot_video(dir.path(), &fixture("obama3.jpg"), &fixture("biden.jpg"));
    let tracks = dir.path().join("tracks");
    let label_into = |tracks: &Path| {
        let mut cmd = Command::new(binary("video-labeler"));
        cmd.env("FACE_MODELS_DIR", testdata::models_dir())
            .arg("-i")
            .arg(&video)
            .arg("-o")
            .arg(dir.path().join("labelled.mp4"))
            .arg("-m")
            .arg(&model)
            .arg("--save-tracks")
            .arg(tracks);
        cmd
    };
    let out = run_ok(&mut label_into(&tracks));
    assert!(out.contains("teach --tracks"), "{out}");
    let saved = TracksFile::read(&tracks.join("tracks.msgpack"))
        .unwrap()
        .body;
    assert_eq!(saved.tracks.len(), 2, "{saved:?}");
    let obama = saved
        .tracks
        .iter()
        .find(|t| t.name.as_deref() == Some("obama"))
        .unwrap();
    let biden = saved
        .tracks
        .iter()
        .find(|t| t.name.as_deref() == Some("biden"))
        .unwrap();
    assert!(obama.start < 0.5 && biden.start >= 1.9, "{saved:?}");
    for track in [obama, biden] {
        assert!(!track.faces.is_empty() && track.faces.len() <= 5);
        for face in &track.faces {
            assert!(tracks.join(face).is_file(), "{face}");
        }
    }

    // Without corrections: the list, and nothing copied.
    let list = run_ok(&mut teach(&tracks, &data));
    assert!(list.contains("obama") && list.contains("biden"), "{list}");
    let before = photos_in(&data.join("biden"));

    // "The second track is Biden" (it was: the loop must still work when the labeler was right);
    // the faces land in his folder with their origin, and the encoder reads them as his photos.
    let out = run_ok(teach(&tracks, &data).arg(format!("{}=biden", biden.id)));
    assert!(out.contains(&format!("track {}", biden.id)), "{out}");
    // Faces are named by content: the same picture twice (this video shows a still photo) is
    // one photo.
    let distinct = |faces: &[String]| {
        let mut hashes: Vec<String> = faces
            .iter()
            .map(|f| facefile::fs::sha256_file(&tracks.join(f)).unwrap())
            .collect();
        hashes.sort();
        hashes.dedup();
        hashes.len()
    };
    let biden_faces = distinct(&biden.faces);
    assert!(biden_faces >= 1);
    let after = photos_in(&data.join("biden"));
    assert_eq!(after.len(), before.len() + biden_faces, "{after:?}");
    let manifest = ManifestFile::read(&data.join("biden/manifest.msgpack"))
        .unwrap()
        .body;
    assert_eq!(manifest.entries.len(), biden_faces);
    for entry in &manifest.entries {
        assert_eq!(entry.source, "video");
        assert!(entry.url.contains("two shots.mp4#t="), "{}", entry.url);
        assert!(data.join("biden").join(&entry.file).is_file());
        assert_eq!(
            facefile::fs::sha256_file(&data.join("biden").join(&entry.file)).unwrap(),
            entry.sha256
        );
    }
    // Taught again: nothing new.
    let out = run_ok(teach(&tracks, &data).arg(format!("{}=biden", biden.id)));
    assert!(out.contains("nothing new"), "{out}");

    // Accepting the first track's name, and the encoder finds a face in every taught photo.
    run_ok(
        teach(&tracks, &data)
            .arg("--accept")
            .arg(obama.id.to_string()),
    );
    let encodings = dir.path().join("again.msgpack");
    run_ok(
        Command::new(binary("encoder"))
            .env("FACE_MODELS_DIR", testdata::models_dir())
            .arg("-q")
            .arg("-d")
            .arg(&data)
            .arg("-f")
            .arg(&encodings),
    );
    let encoded = EncodingsFile::read(&encodings).unwrap().body;
    let taught: Vec<_> = encoded
        .images
        .iter()
        .filter(|r| manifest.entries.iter().any(|e| r.path.ends_with(&e.file)))
        .collect();
    assert_eq!(taught.len(), biden_faces);
    assert!(
        taught
            .iter()
            .all(|r| matches!(r.outcome, facefile::format::encodings::Outcome::Encoded(_))),
        "{taught:?}"
    );

    // A stranger: into the strangers' folder, one folder per track.
    run_ok(teach(&tracks, &data).arg(format!("{}=stranger", obama.id)));
    let stranger = data.join(format!(".strangers/two shots track {}", obama.id));
    assert_eq!(photos_in(&stranger).len(), distinct(&obama.faces));

    // Mistakes are refused before anything is copied.
    let err = run_err(teach(&tracks, &data).arg("99=biden"));
    assert!(err.contains("no track 99"), "{err}");
    let err = run_err(teach(&tracks, &data).arg(format!("{}=Bidden", biden.id)));
    assert!(
        err.contains("no folder Bidden/") && err.contains("--new-person"),
        "{err}"
    );
    assert!(!data.join("Bidden").exists());
    let err = run_err(teach(dir.path(), &data).arg("1=biden"));
    assert!(err.contains("--save-tracks"), "{err}");

    // Labelling again replaces the saved tracks; a folder of other files is refused.
    run_ok(&mut label_into(&tracks));
    assert!(TracksFile::read(&tracks.join("tracks.msgpack")).is_ok());
    let err = run_err(&mut label_into(&data.join("faces")));
    assert!(
        err.contains("a folder the model's photos were read from"),
        "{err}"
    );
    let elsewhere = dir.path().join("holiday");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("note.txt"), "mine").unwrap();
    let err = run_err(&mut label_into(&elsewhere));
    assert!(err.contains("did not write"), "{err}");
    assert!(elsewhere.join("note.txt").is_file());
}
