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
