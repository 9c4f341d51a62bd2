//! Decode → faces → draw and encode, on three threads joined by small bounded queues, so both
//! cores stay busy and memory stays flat whatever the video's length.
//!
//! Detection runs on keyframes only: every `detect_every` frames and at every cut (a large change
//! of a tiny thumbnail). Between keyframes the boxes of faces seen at both ends are interpolated,
//! which is why frames wait in the face stage until the next keyframe (at most `detect_every`).
//! Each track is embedded when new and now and then afterwards; its name is a vote.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use crossbeam_channel::{bounded, Receiver, Sender};
use facecore::{AnalysisSettings, BoundingBox, ClassifierFile, FaceAnalyzer, RgbImage};
use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;

use crate::tracker::{Identity, Tracker};
use crate::video::VideoSource;

/// Mean absolute difference (0–255) of 32×18 grey thumbnails above which a frame starts a new shot.
const CUT_THRESHOLD: f64 = 30.0;

#[derive(Debug, Clone)]
pub struct Settings {
    pub detect_every: u64,
    /// Detection (and embedding) runs on frames scaled down to at most this width.
    pub detect_width: u32,
    pub analysis: AnalysisSettings,
    pub threshold: f64,
    /// Decode and encode only (the throughput ceiling).
    pub passthrough: bool,
}

/// A face as drawn on one frame.
#[derive(Debug, Clone)]
pub struct ShownFace {
    pub bbox: BoundingBox,
    pub track: u32,
    pub identity: Identity,
}

pub struct Processed {
    pub index: u64,
    pub frame: Mat,
    pub faces: Vec<ShownFace>,
}

struct Decoded {
    index: u64,
    frame: Mat,
    key: Option<Keyframe>,
}

struct Keyframe {
    small: RgbImage,
    /// Frame pixels per detection pixel.
    scale: f64,
    cut: bool,
}

/// Everything the face stage learned, for the labels file.
pub struct Outcome {
    pub tracks: Vec<crate::tracker::Track>,
}

/// Runs the pipeline; `sink` is called on the calling thread with each processed frame in order.
pub fn run(
    mut source: VideoSource,
    analyzer: Option<FaceAnalyzer>,
    model: &ClassifierFile,
    settings: &Settings,
    stop: &AtomicBool,
    mut sink: impl FnMut(Processed) -> Result<()>,
) -> Result<Outcome> {
    let queue = (settings.detect_every as usize + 2).max(4);
    let (decoded_tx, decoded_rx) = bounded::<Decoded>(queue);
    let (processed_tx, processed_rx) = bounded::<Processed>(queue);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_frames(&mut source, settings, stop, decoded_tx));
        let faces =
            scope.spawn(|| process_faces(analyzer, model, settings, decoded_rx, processed_tx));
        let mut sink_result = Ok(());
        for processed in processed_rx.iter() {
            if let Err(error) = sink(processed) {
                sink_result = Err(error);
                stop.store(true, Ordering::SeqCst);
                break;
            }
        }
        // Drain so the other stages can finish after an error.
        for _ in processed_rx.iter() {}
        let read_result = reader.join().expect("reader thread panicked");
        let outcome = faces.join().expect("face thread panicked");
        read_result?;
        sink_result?;
        Ok(outcome)
    })
}

fn thumbnail(frame: &Mat) -> Result<Vec<u8>> {
    let mut small = Mat::default();
    imgproc::resize(
        frame,
        &mut small,
        Size::new(32, 18),
        0.0,
        0.0,
        imgproc::INTER_AREA,
    )?;
    let mut grey = Mat::default();
    imgproc::cvt_color_def(&small, &mut grey, imgproc::COLOR_BGR2GRAY)?;
    Ok(grey.data_bytes()?.to_vec())
}

fn detection_image(frame: &Mat, max_width: u32) -> Result<(RgbImage, f64)> {
    let (width, height) = (frame.cols(), frame.rows());
    let scale = (width as f64 / max_width as f64).max(1.0);
    let (w, h) = (
        (width as f64 / scale).round() as i32,
        (height as f64 / scale).round() as i32,
    );
    let mut resized = Mat::default();
    let source = if scale > 1.0 {
        imgproc::resize(
            frame,
            &mut resized,
            Size::new(w, h),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        &resized
    } else {
        frame
    };
    let mut rgb = Mat::default();
    imgproc::cvt_color_def(source, &mut rgb, imgproc::COLOR_BGR2RGB)?;
    let pixels = if rgb.is_continuous() {
        rgb.data_bytes()?.to_vec()
    } else {
        rgb.try_clone()?.data_bytes()?.to_vec()
    };
    Ok((
        RgbImage::new(w as u32, h as u32, pixels),
        width as f64 / w as f64,
    ))
}

fn read_frames(
    source: &mut VideoSource,
    settings: &Settings,
    stop: &AtomicBool,
    out: Sender<Decoded>,
) -> Result<()> {
    let mut index = 0u64;
    let mut last_key: Option<u64> = None;
    let mut previous: Option<Vec<u8>> = None;
    while !stop.load(Ordering::SeqCst) {
        let Some(frame) = source.read()? else { break };
        let key = if settings.passthrough {
            None
        } else {
            let thumb = thumbnail(&frame)?;
            let cut = previous.as_ref().is_some_and(|p| {
                let diff: u64 = p
                    .iter()
                    .zip(&thumb)
                    .map(|(a, b)| a.abs_diff(*b) as u64)
                    .sum();
                diff as f64 / thumb.len() as f64 > CUT_THRESHOLD
            });
            previous = Some(thumb);
            let due = last_key.is_none_or(|k| index - k >= settings.detect_every);
            if cut || due {
                last_key = Some(index);
                let (small, scale) = detection_image(&frame, settings.detect_width)?;
                Some(Keyframe { small, scale, cut })
            } else {
                None
            }
        };
        if out.send(Decoded { index, frame, key }).is_err() {
            break;
        }
        index += 1;
    }
    Ok(())
}

fn scale_box(bbox: &BoundingBox, scale: f64) -> BoundingBox {
    let s = |v: i32| (v as f64 * scale).round() as i32;
    BoundingBox::new(s(bbox.left), s(bbox.top), s(bbox.right), s(bbox.bottom))
}

fn lerp_box(a: &BoundingBox, b: &BoundingBox, t: f64) -> BoundingBox {
    let l = |x: i32, y: i32| (x as f64 + (y - x) as f64 * t).round() as i32;
    BoundingBox::new(
        l(a.left, b.left),
        l(a.top, b.top),
        l(a.right, b.right),
        l(a.bottom, b.bottom),
    )
}

fn process_faces(
    analyzer: Option<FaceAnalyzer>,
    model: &ClassifierFile,
    settings: &Settings,
    input: Receiver<Decoded>,
    output: Sender<Processed>,
) -> Outcome {
    let mut tracker = Tracker::default();
    let mut identities: HashMap<u32, Identity> = HashMap::new();
    let mut pending: Vec<Decoded> = Vec::new();
    // Boxes at the previous keyframe, by track id.
    let mut previous_boxes: Vec<(u32, BoundingBox)> = Vec::new();
    let mut previous_index = 0u64;
    for decoded in input.iter() {
        let Some(analyzer) = &analyzer else {
            // Pass-through: no face work, nothing to wait for.
            if output
                .send(Processed {
                    index: decoded.index,
                    frame: decoded.frame,
                    faces: Vec::new(),
                })
                .is_err()
            {
                break;
            }
            continue;
        };
        let Some(key) = &decoded.key else {
            pending.push(decoded);
            continue;
        };
        let detections = analyzer.detect(&key.small, &settings.analysis);
        let frame_boxes: Vec<BoundingBox> = detections
            .iter()
            .map(|d| scale_box(&d.bbox, key.scale))
            .collect();
        let assigned = tracker.update(decoded.index, &frame_boxes, key.cut);
        for (detection, &track_index) in detections.iter().zip(&assigned) {
            let track = &mut tracker.active[track_index];
            if track.wants_embedding() {
                let face = &analyzer.encode_boxes(
                    &key.small,
                    &[detection.bbox],
                    settings.analysis.jitter.max(1),
                )[0];
                let prediction = model.predict(&face.embedding);
                track.vote(&prediction, model);
            }
            identities.insert(track.id, track.identity(settings.threshold));
        }
        let boxes: Vec<(u32, BoundingBox)> =
            tracker.active.iter().map(|t| (t.id, t.bbox)).collect();
        let next = NextKey {
            index: decoded.index,
            boxes: &boxes,
            cut: key.cut,
        };
        if !flush(
            &mut pending,
            &previous_boxes,
            previous_index,
            Some(next),
            &identities,
            &output,
        ) {
            break;
        }
        let faces = shown(&boxes, &identities);
        if output
            .send(Processed {
                index: decoded.index,
                frame: decoded.frame,
                faces,
            })
            .is_err()
        {
            break;
        }
        previous_boxes = boxes;
        previous_index = decoded.index;
    }
    flush(
        &mut pending,
        &previous_boxes,
        previous_index,
        None,
        &identities,
        &output,
    );
    Outcome {
        tracks: tracker.finish(),
    }
}

/// Boxes of the keyframe that closes a run of waiting frames.
#[derive(Clone, Copy)]
struct NextKey<'a> {
    index: u64,
    boxes: &'a [(u32, BoundingBox)],
    cut: bool,
}

fn shown(boxes: &[(u32, BoundingBox)], identities: &HashMap<u32, Identity>) -> Vec<ShownFace> {
    boxes
        .iter()
        .map(|(id, bbox)| ShownFace {
            bbox: *bbox,
            track: *id,
            identity: identities.get(id).cloned().unwrap_or(Identity {
                class: None,
                probability: 0.0,
            }),
        })
        .collect()
}

/// Sends the frames waiting since the previous keyframe: each face seen at both keyframes moves
/// linearly between its two boxes; a face not seen at the next keyframe (or before a cut) keeps its
/// box. Returns false when the writer has stopped.
fn flush(
    pending: &mut Vec<Decoded>,
    previous: &[(u32, BoundingBox)],
    previous_index: u64,
    next: Option<NextKey<'_>>,
    identities: &HashMap<u32, Identity>,
    output: &Sender<Processed>,
) -> bool {
    for frame in pending.drain(..) {
        let boxes: Vec<(u32, BoundingBox)> = previous
            .iter()
            .map(|(id, b0)| match next {
                Some(next) if !next.cut => {
                    let t = (frame.index - previous_index) as f64
                        / (next.index - previous_index) as f64;
                    let b1 = next
                        .boxes
                        .iter()
                        .find(|(other, _)| other == id)
                        .map(|(_, b)| *b);
                    (*id, b1.map(|b1| lerp_box(b0, &b1, t)).unwrap_or(*b0))
                }
                _ => (*id, *b0),
            })
            .collect();
        let faces = shown(&boxes, identities);
        if output
            .send(Processed {
                index: frame.index,
                frame: frame.frame,
                faces,
            })
            .is_err()
        {
            return false;
        }
    }
    true
}
