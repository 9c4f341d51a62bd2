//! Photos: the labeler also takes a photo (or a folder of photos). Each face is found, embedded and
//! named with the model's rule; the photo is written with boxes and names, and each face's best
//! candidates are printed, so a user can check a model on a few photos before a long video.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use classifier::Rules;
use facecore::{DecodeOptions, FaceAnalyzer, Picture};
use facefile::BoundingBox;

use crate::decide::{decide_together, TrackDecision};
use crate::draw::{Colours, Labelled, Painter};
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
    /// The probability a name needed (the small-face classifier's for a small face).
    pub min_probability: f64,
}

/// The photos to label and where each labelled copy goes (none without `output`): a photo to
/// `output`, or every photo of a folder (not its sub-folders) to the same name in the folder
/// `output`.
pub fn plan(input: &Path, output: Option<&Path>) -> Result<Vec<(PathBuf, Option<PathBuf>)>> {
    if !input.is_dir() {
        return Ok(vec![(input.to_path_buf(), output.map(Path::to_path_buf))]);
    }
    if let Some(output) = output {
        if output.exists() && !output.is_dir() {
            bail!(
                "{} is a folder of photos, so --output must be a folder too ({} is a file)",
                input.display(),
                output.display()
            );
        }
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
    if let Some(output) = output {
        std::fs::create_dir_all(output)
            .with_context(|| format!("cannot create {}", output.display()))?;
    }
    Ok(photos
        .into_iter()
        .map(|photo| {
            let target = output.map(|output| {
                let mut target = output.join(photo.file_name().expect("a file"));
                target.set_extension("jpg");
                target
            });
            (photo, target)
        })
        .collect())
}

/// The JPEG comment every labelled photo carries: a file with it may be replaced by the labeler.
const LABELLED_PHOTO_COMMENT: &[u8] = b"labelled by facelabel video-labeler";

/// Whether `path` is a photo the labeler wrote (it carries the comment).
pub fn is_labelled_photo(path: &Path) -> bool {
    let mut head = vec![0u8; 256];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    head[..read]
        .windows(LABELLED_PHOTO_COMMENT.len())
        .any(|w| w == LABELLED_PHOTO_COMMENT)
}

/// `jpeg` with a comment segment (COM) right after its start marker.
fn with_comment(jpeg: Vec<u8>, comment: &[u8]) -> Vec<u8> {
    if jpeg.len() < 2 || jpeg[..2] != [0xFF, 0xD8] {
        return jpeg;
    }
    let length = (comment.len() + 2) as u16;
    let mut out = Vec::with_capacity(jpeg.len() + comment.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(comment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Finds and names every face of one photo; nobody is named twice in it.
pub fn name_faces(
    analyzer: &mut FaceAnalyzer,
    picture: &Picture,
    rules: &Rules,
) -> Result<Vec<NamedFace>> {
    let unit = analyzer.settings().embedder.unit_length();
    let detections = analyzer.detect(picture, None)?;
    let mut probes = Vec::new();
    for detection in &detections {
        let face = analyzer.embed(picture, detection, facecore::Views::MIRROR)?;
        let probe = classifier::face_vector(&face.embedding, face.mirror.as_ref(), unit);
        probes.push((probe, detection.bbox.height() as f32));
    }
    Ok(detections
        .iter()
        .zip(decide_together(&probes, rules))
        .map(|(detection, decision)| NamedFace {
            bbox: detection.bbox,
            decision,
            min_probability: rules
                .for_height(detection.bbox.height() as f32)
                .1
                .min_probability,
        })
        .collect())
}

/// How a photo's faces are told: prose for people, CSV or JSON lines for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Each face's name and best candidates, in words.
    Text,
    /// One row per face: file,face,name,probability,left,top,right,bottom,best_guess,
    /// best_guess_probability (name empty for Unknown; a photo without faces has one row, face 0).
    Csv,
    /// One JSON object per photo and line: {"file", "faces": [{"face", "name", "probability",
    /// "box", "candidates", "unknown_reason"}]}.
    Json,
}

/// The CSV header of [`Format::Csv`].
pub const CSV_HEADER: &str =
    "file,face,name,probability,left,top,right,bottom,best_guess,best_guess_probability";

/// What is printed for one photo, in words.
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
        let verdict = match (face.decision.class, face.decision.lost_to_another) {
            (Some(c), _) => classes[c].clone(),
            (None, Some(c)) => format!(
                "Unknown: {} is another face here, likelier to be her",
                classes[c]
            ),
            (None, None) => match face.decision.candidates.first() {
                Some(&(c, p)) if face.decision.under_half => format!(
                    "Unknown: likeliest {} ({:.1}%), but a name needs 50% or more (likelier \
                     than not)",
                    classes[c],
                    p * 100.0
                ),
                Some(&(c, p)) if p < face.min_probability => format!(
                    "Unknown: matches none of the people the model knows (the closest, {}, at \
                     {:.0}%, under the {:.0}% a name needs)",
                    classes[c],
                    p * 100.0,
                    face.min_probability * 100.0
                ),
                Some(&(c, _)) => format!(
                    "Unknown: matches none of the people the model knows (the closest, {}: {})",
                    classes[c],
                    face.decision
                        .reason
                        .as_deref()
                        .unwrap_or("not close enough")
                ),
                None => "Unknown (no face embedded)".to_string(),
            },
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

/// One CSV row per face of a photo.
pub fn csv_rows(photo: &Path, faces: &[NamedFace], classes: &[String]) -> String {
    let mut out = String::new();
    let file = facefile::csv::text(&photo.display().to_string());
    if faces.is_empty() {
        // Listed all the same, so every photo asked about has its answer.
        let _ = writeln!(out, "{file},0,,,,,,,,");
    }
    for (i, face) in faces.iter().enumerate() {
        let b = face.bbox;
        let name = face
            .decision
            .class
            .map(|c| facefile::csv::text(&classes[c]))
            .unwrap_or_default();
        let probability = face
            .decision
            .class
            .map(|_| format!("{:.4}", face.decision.probability))
            .unwrap_or_default();
        let (guess, guess_probability) = match face.decision.candidates.first() {
            Some(&(c, p)) => (facefile::csv::text(&classes[c]), format!("{p:.4}")),
            None => (String::new(), String::new()),
        };
        let _ = writeln!(
            out,
            "{file},{},{name},{probability},{},{},{},{},{guess},{guess_probability}",
            i + 1,
            b.left,
            b.top,
            b.right,
            b.bottom
        );
    }
    out
}

/// The JSON object of a photo's faces.
pub fn json_object(photo: &Path, faces: &[NamedFace], classes: &[String]) -> serde_json::Value {
    let faces: Vec<serde_json::Value> = faces
        .iter()
        .enumerate()
        .map(|(i, face)| {
            let b = face.bbox;
            serde_json::json!({
                "face": i + 1,
                "name": face.decision.class.map(|c| classes[c].clone()),
                "probability": face.decision.class.map(|_| face.decision.probability),
                "box": {"left": b.left, "top": b.top, "right": b.right, "bottom": b.bottom},
                "candidates": face.decision.candidates.iter()
                    .map(|&(c, p)| serde_json::json!({"name": classes[c], "probability": p}))
                    .collect::<Vec<_>>(),
                "unknown_reason": face.decision.class.is_none().then(|| face.decision.reason.clone()).flatten(),
            })
        })
        .collect();
    serde_json::json!({"file": photo.display().to_string(), "faces": faces})
}

/// Labels one photo: names its faces and, with `output`, writes the labelled copy.
pub fn label_photo(
    analyzer: &mut FaceAnalyzer,
    rules: &Rules,
    photo: &Path,
    output: Option<&Path>,
    show_guesses: bool,
) -> Result<Vec<NamedFace>> {
    let decoded = facecore::decode_file(photo, &DecodeOptions::default())
        .with_context(|| format!("cannot read the photo {}", photo.display()))?;
    let picture = Picture::from_rgb(decoded.image);
    let faces = name_faces(analyzer, &picture, rules)?;
    if let Some(output) = output {
        let mut canvas = picture.bgr()?.clone();
        let mut painter = Painter::new(picture.height());
        let texts: Vec<String> = faces
            .iter()
            .map(|face| label_text(&face.decision, &rules.model().classes, show_guesses))
            .collect();
        let colours = Colours::of_model(rules.model());
        let drawn: Vec<Labelled> = faces
            .iter()
            .zip(&texts)
            .map(|(face, label)| Labelled {
                bbox: face.bbox,
                label,
                rgb: colours.of(face.decision.class),
            })
            .collect();
        painter.faces(&mut canvas, &drawn)?;
        let rgb = facecore::picture::bgr_to_rgb(&canvas)?;
        let jpeg = with_comment(facecore::encode_jpeg(&rgb, 92)?, LABELLED_PHOTO_COMMENT);
        facefile::fs::write_atomic(output, &jpeg)?;
    }
    Ok(faces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(probability: f64, reason: &str) -> NamedFace {
        NamedFace {
            bbox: BoundingBox::new(10, 20, 50, 70),
            decision: TrackDecision {
                class: None,
                probability,
                distance: 0.9,
                candidates: vec![(1, probability), (0, 0.01)],
                lost_to_another: None,
                under_half: false,
                reason: Some(reason.into()),
            },
            min_probability: 0.6,
        }
    }

    #[test]
    fn a_face_far_from_everyone_is_said_to_match_nobody() {
        let classes = ["Momo".to_string(), "Sana".to_string()];
        let photo = Path::new("p.jpg");
        let unsure = describe(photo, &[unknown(0.2, "best candidate at 20%")], &classes);
        assert!(
            unsure.contains("face 1 at (10, 20), 41×51 px: Unknown: matches none of the people \
                             the model knows (the closest, Sana, at 20%, under the 60% a name needs)"),
            "{unsure}"
        );
        let far = describe(photo, &[unknown(0.9, "farther from her photos")], &classes);
        assert!(
            far.contains("matches none of the people the model knows (the closest, Sana: farther"),
            "{far}"
        );
        // Over the model's bar but under half: not "matches none", and no other face blamed.
        let mut between = unknown(0.46, "best candidate at 46.0%, not likelier than not");
        between.decision.under_half = true;
        between.min_probability = 0.39;
        let between = describe(photo, &[between], &classes);
        assert!(
            between.contains("Unknown: likeliest Sana (46.0%), but a name needs 50% or more"),
            "{between}"
        );
        let rows = csv_rows(photo, &[unknown(0.2, "x")], &classes);
        assert_eq!(rows, "\"p.jpg\",1,,,10,20,50,70,\"Sana\",0.2000\n");
        assert_eq!(csv_rows(photo, &[], &classes), "\"p.jpg\",0,,,,,,,,\n");
    }

    #[test]
    fn labelled_photos_carry_their_comment_and_stay_jpeg() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jpg");
        let rgb = facecore::RgbImage::new(8, 8, vec![128; 8 * 8 * 3]);
        let jpeg = with_comment(
            facecore::encode_jpeg(&rgb, 90).unwrap(),
            LABELLED_PHOTO_COMMENT,
        );
        std::fs::write(&path, &jpeg).unwrap();
        assert!(is_labelled_photo(&path));
        let decoded = facecore::decode_file(&path, &DecodeOptions::default()).unwrap();
        assert_eq!((decoded.image.width(), decoded.image.height()), (8, 8));
        std::fs::write(&path, facecore::encode_jpeg(&rgb, 90).unwrap()).unwrap();
        assert!(!is_labelled_photo(&path));
    }
}
