//! Compiles the small C++ bridge in `src/dlib_bridge.rs` (HOG detection with upsampling and scores,
//! pyramid up/down, aligned face chips) against the system's dlib headers. Linking to libdlib,
//! OpenBLAS and LAPACK is done by the `dlib-face-recognition` crate.
fn main() {
    println!("cargo:rerun-if-changed=src/dlib_bridge.rs");
    cpp_build::Config::new()
        .flag("-std=c++14")
        .flag("-Wno-deprecated-copy")
        .flag("-Wno-unused-parameter")
        .build("src/lib.rs");
}
