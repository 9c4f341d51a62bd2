//! Photos: the labeler also takes a photo (or a folder of photos). Each face is found, embedded and
//! named with the model's rule; the photo is written with boxes and names, and each face's best
//! candidates are printed, so a user can check a model on a few photos before a long video.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use classifier::{Predictor, Thresholds};
use facecore::{DecodeOptions, FaceAnalyzer, Picture};
use facefile::format::model::Classifier;
use facefile::BoundingBox;

use crate::decide::{decide_together, TrackDecision};
use crate::draw::{colour_of, Painter};
use crate::render::label_text;

/// Whether `path` is a photo (or a folder of them) rather than a video. GIFs count as videos: fan
/// clips are GIFs.
pub fn is_photo_input(path: &Path) -> bool {
    if path.is_dir() {
        return true;
    }
    // A raw Motion-JPEG stream starts like a JPEG photo.
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ["mjpeg", "mjpg", "mpjpeg"].contains(&extension.as_str()) {
        return false;
    }
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 64];
    let read = std::io::Read::read(&mut file, &mut head).unwrap_or(0);
    matches!(
        facecore::image_io::sniff(&head[..read]),
        Ok(facecore::image_io::Sniffed::Jpeg)
            | Ok(facecore::image_io::Sniffed::Other(
                image::ImageFormat::Png
                    | image::ImageFormat::WebP
                    | image::ImageFormat::Bmp
                    | image::ImageFormat::Tiff
            ))
    )
}

/// One face in a photo and what the model says of it.
pub struct NamedFace {
    pub bbox: BoundingBox,
    pub decision: TrackDecision,
}

/// The photos to label and where each labelled copy goes: a photo to `output`, or every photo of a
/// folder (not its sub-folders) to the same name in the folder `output`.
pub fn plan(input: &Path, output: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    if !input.is_dir() {
        return Ok(vec![(input.to_path_buf(), output.to_path_buf())]);
    }
    if output.exists() && !output.is_dir() {
        bail!(
            "{} is a folder of photos, so --output must be a folder too ({} is a file)",
            input.display(),
            output.display()
        );
    }
    let mut photos: Vec<PathBuf> = std::fs::read_dir(input)
        .with_context(|| format!("cannot list {}", input.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_photo_input(p))
        .collect();
    photos.sort();
    if photos.is_empty() {
        bail!("no photos in {}", input.display());
    }
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    Ok(photos
        .into_iter()
        .map(|photo| {
            let name = photo.file_name().expect("a file").to_owned();
            let mut target = output.join(name);
            target.set_extension("jpg");
            (photo, target)
        })
        .collect())
}

/// Finds and names every face of one photo; nobody is named twice in it.
pub fn name_faces(
    analyzer: &mut FaceAnalyzer,
    picture: &Picture,
    model: &Classifier,
    thresholds: &Thresholds,
) -> Result<Vec<NamedFace>> {
    let predictor = Predictor::new(model);
    let unit = analyzer.settings().embedder.unit_length();
    let detections = analyzer.detect(picture, None)?;
    let mut probes = Vec::new();
    for detection in &detections {
        let face = analyzer.embed(picture, detection, facecore::Views::MIRROR)?;
        probes.push(classifier::face_vector(
            &face.embedding,
            face.mirror.as_ref(),
            unit,
        ));
    }
    Ok(detections
        .iter()
        .zip(decide_together(&predictor, &probes, thresholds))
        .map(|(detection, decision)| NamedFace {
            bbox: detection.bbox,
            decision,
        })
        .collect())
}

/// What is printed for one photo.
pub fn describe(photo: &Path, faces: &[NamedFace], classes: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} face{}",
        photo.display(),
        faces.len(),
        if faces.len() == 1 { "" } else { "s" }
    );
    for (i, face) in faces.iter().enumerate() {
        let b = face.bbox;
        let candidates: Vec<String> = face
            .decision
            .candidates
            .iter()
            .map(|&(c, p)| format!("{} {:.0}%", classes[c], p * 100.0))
            .collect();
        let verdict = match (face.decision.class, &face.decision.reason) {
            (Some(c), _) => classes[c].clone(),
            (None, Some(reason)) => format!("Unknown ({reason})"),
            (None, None) => "Unknown".to_string(),
        };
        let _ = writeln!(
            out,
            "  face {} at ({}, {}), {}×{} px: {verdict}; candidates: {}",
            i + 1,
            b.left,
            b.top,
            b.width(),
            b.height(),
            candidates.join(", ")
        );
    }
    out
}

/// Labels one photo: names its faces, writes the labelled copy, returns what to print.
pub fn label_photo(
    analyzer: &mut FaceAnalyzer,
    model: &Classifier,
    thresholds: &Thresholds,
    photo: &Path,
    output: &Path,
    show_guesses: bool,
) -> Result<String> {
    let decoded = facecore::decode_file(photo, &DecodeOptions::default())
        .with_context(|| format!("cannot read the photo {}", photo.display()))?;
    let picture = Picture::from_rgb(decoded.image);
    let faces = name_faces(analyzer, &picture, model, thresholds)?;
    let mut canvas = picture.bgr()?.clone();
    let mut painter = Painter::new(picture.height());
    for face in &faces {
        let text = label_text(&face.decision, &model.classes, show_guesses);
        painter.face(
            &mut canvas,
            &face.bbox,
            &text,
            colour_of(face.decision.class),
        )?;
    }
    let rgb = facecore::picture::bgr_to_rgb(&canvas)?;
    let jpeg = facecore::encode_jpeg(&rgb, 92)?;
    facefile::fs::write_atomic(output, &jpeg)?;
    Ok(describe(photo, &faces, &model.classes))
}
