//! `make bench` (model part): what one detection and one embedding cost with each backend, on the
//! registry photo of Obama scaled to video sizes.
//!   cargo run --release -p facecore --example bench-models -- [PHOTO]

use std::time::Instant;

use facecore::{FaceAnalyzer, ModelDir, Picture, RgbImage};
use facefile::{AnalysisSettings, EmbedderKind};

fn scaled(image: &RgbImage, width: u32) -> Picture {
    let height = (image.height() as u64 * width as u64 / image.width() as u64) as u32;
    let source = image::RgbImage::from_raw(image.width(), image.height(), image.pixels().to_vec())
        .expect("sizes match");
    let resized = image::imageops::resize(
        &source,
        width,
        height,
        image::imageops::FilterType::Triangle,
    );
    Picture::from_rgb(RgbImage::new(width, height, resized.into_raw()))
}

fn median(mut seconds: Vec<f64>) -> f64 {
    seconds.sort_by(f64::total_cmp);
    seconds[seconds.len() / 2]
}

fn main() {
    let photo = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../.cache/fixtures/face_recognition/test_images/obama.jpg")
        });
    let image = facecore::decode_file(&photo, &Default::default())
        .unwrap_or_else(|e| panic!("{}: {e}", photo.display()))
        .image;
    let models =
        ModelDir::new(std::env::var("FACE_MODELS_DIR").unwrap_or_else(|_| "models".into()));
    println!(
        "one face, {} threads for OpenCV",
        opencv::core::get_num_threads().unwrap_or(1)
    );
    for embedder in [EmbedderKind::Sface, EmbedderKind::Dlib] {
        let mut analyzer = FaceAnalyzer::load(&models, AnalysisSettings::for_embedder(embedder))
            .unwrap_or_else(|e| panic!("{e}"));
        for width in [640, 1280] {
            let picture = scaled(&image, width);
            let mut detect = Vec::new();
            let mut embed = Vec::new();
            for _ in 0..15 {
                let start = Instant::now();
                let found = analyzer.detect(&picture, Some(960)).unwrap();
                detect.push(start.elapsed().as_secs_f64());
                let start = Instant::now();
                analyzer
                    .embed(&picture, &found[0], facecore::Views::NONE)
                    .unwrap();
                embed.push(start.elapsed().as_secs_f64());
            }
            println!(
                "{embedder:>5} {:>4}×{:<4}  detection {:>6.1} ms  embedding {:>6.1} ms a face",
                picture.width(),
                picture.height(),
                median(detect) * 1e3,
                median(embed) * 1e3
            );
        }
    }
}
