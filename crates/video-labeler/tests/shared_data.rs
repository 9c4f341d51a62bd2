//! Second tier: the Hamilton clip from `../shared`, with a model trained on one photo each of
//! Lin-Manuel Miranda and Alex Lacamoire plus the five people of knn_examples/train.

use std::path::Path;

use assert_cmd::Command;
use facefile::format::labels::LabelsFile;
use testdata::command::run_ok;

fn train_hamilton_model(dir: &Path) -> std::path::PathBuf {
    let examples = testdata::shared_data().join("face_recognition/examples");
    let data = dir.join("data");
    // Person folders of links: the shared photos are read in place, never copied.
    for entry in std::fs::read_dir(examples.join("knn_examples/train")).unwrap() {
        let person = entry.unwrap().path();
        let folder = data.join(person.file_name().unwrap());
        std::fs::create_dir_all(&folder).unwrap();
        for photo in std::fs::read_dir(&person).unwrap() {
            let photo = photo.unwrap().path();
            std::os::unix::fs::symlink(&photo, folder.join(photo.file_name().unwrap())).unwrap();
        }
    }
    std::fs::create_dir_all(data.join("lin_manuel_miranda")).unwrap();
    std::os::unix::fs::symlink(
        examples.join("lin-manuel-miranda.png"),
        data.join("lin_manuel_miranda/lmm.png"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        examples.join("alex-lacamoire.png"),
        data.join("alex_lacamoire/alex.png"),
    )
    .unwrap();
    testdata::pipeline::encode_and_train(&data, dir)
}

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn hamilton_clip_labels_lin_manuel_miranda_and_nobody_else_as_him() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_hamilton_model(dir.path());
    let clip = testdata::shared_data().join("face_recognition/examples/short_hamilton_clip.mp4");
    let labels_path = dir.path().join("labels.msgpack");
    let output = dir.path().join("labeled.mp4");
    run_ok(
        Command::cargo_bin("video-labeler")
            .unwrap()
            .env("FACE_MODELS_DIR", testdata::models_dir())
            .arg("-i")
            .arg(&clip)
            .arg("-o")
            .arg(&output)
            .arg("-m")
            .arg(&model)
            .arg("--labels")
            .arg(&labels_path),
    );
    let labels = LabelsFile::read(&labels_path).unwrap().body;
    assert_eq!(labels.frames.len(), 275);
    assert_eq!((labels.video.width, labels.video.height), (640, 360));
    let is_him = |index: usize| {
        labels.frames[index]
            .faces
            .iter()
            .any(|f| f.name.as_deref() == Some("lin_manuel_miranda"))
    };
    // His close-ups run from about frame 84 to 215.
    let labelled = (84..=215).filter(|&i| is_him(i)).count();
    assert!(
        labelled as f64 >= 0.9 * 132.0,
        "labelled in {labelled} of 132 close-up frames"
    );
    // Nobody else is labelled as him: not Alex Lacamoire's close profile (24–83), not the audience
    // with Barack Obama (216–274). (In the wide stage shot, 0–23, the small figure singing is him.)
    let elsewhere: Vec<usize> = (24..275)
        .filter(|&i| !(80..=219).contains(&i) && is_him(i))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "labelled as him in frames {elsewhere:?}"
    );
}
