//! The first pass: read the whole video once, find the cuts, detect faces on keyframes (every
//! `detect_every` frames and at every cut), follow them as tracks and embed them. Nothing is drawn
//! yet: a track's name is decided from all of its faces, so even its first frame shows the name the
//! whole track supports.
//!
//! Decoding runs on its own thread, feeding keyframes to the face work through a small bounded
//! queue, so both cores work and memory stays flat.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use crossbeam_channel::bounded;
use facecore::{FaceAnalyzer, Picture};
use indicatif::ProgressBar;
use opencv::core::Mat;

use crate::shots::{CutDetector, Signature};
use crate::tracker::{EmbeddedFace, Track, Tracker};
use crate::video::VideoSource;

#[derive(Debug, Clone, Copy)]
pub struct AnalyseSettings {
    pub detect_every: u64,
    /// Detection runs on frames scaled down to at most this width (embedding uses full frames).
    pub detect_width: u32,
    /// A face farther than this from its track's mean face starts a new track.
    pub split_distance: f32,
    /// The embedder's vectors have unit length.
    pub unit: bool,
}

/// What the first pass learned.
#[derive(Debug, Default)]
pub struct Analysis {
    pub frames: u64,
    /// Presentation time of each frame, in seconds.
    pub times: Vec<f64>,
    /// Frames that start a new shot (the first frame included).
    pub cuts: Vec<u64>,
    pub tracks: Vec<Track>,
    pub keyframes: u64,
    pub faces_detected: u64,
    pub faces_embedded: u64,
    /// Tracks split because a face's embedding jumped (cuts the cut rule missed).
    pub splits: u32,
    /// Faces that could not be embedded (OpenCV errors), with the first message.
    pub embed_errors: (u64, Option<String>),
}

struct Keyframe {
    index: u64,
    frame: Mat,
    cut: bool,
}

struct Timeline {
    times: Vec<f64>,
    cuts: Vec<u64>,
}

pub fn analyse(
    source: &mut VideoSource,
    analyzer: &mut FaceAnalyzer,
    settings: &AnalyseSettings,
    stop: &AtomicBool,
    bar: &ProgressBar,
) -> Result<Analysis> {
    let (keyframe_tx, keyframe_rx) = bounded::<Keyframe>(4);
    let mut analysis = std::thread::scope(|scope| {
        let reader = scope.spawn(|| -> Result<Timeline> {
            let mut cuts = CutDetector::default();
            let mut timeline = Timeline {
                times: Vec::new(),
                cuts: Vec::new(),
            };
            let mut last_key: Option<u64> = None;
            let mut index = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let Some(frame) = source.read()? else { break };
                timeline.times.push(source.time_of_last_frame(index));
                let cut = cuts.is_cut(Signature::of(&frame.image)?);
                if cut {
                    timeline.cuts.push(index);
                }
                let due = last_key.is_none_or(|k| index - k >= settings.detect_every);
                if cut || due {
                    last_key = Some(index);
                    let key = Keyframe {
                        index,
                        frame: frame.image,
                        cut,
                    };
                    if keyframe_tx.send(key).is_err() {
                        break;
                    }
                }
                bar.inc(1);
                index += 1;
            }
            drop(keyframe_tx);
            Ok(timeline)
        });

        let mut tracker = Tracker::new(settings.unit, settings.split_distance);
        let mut analysis = Analysis::default();
        let mut face_result: Result<()> = Ok(());
        for key in keyframe_rx.iter() {
            if let Err(error) = faces_at(analyzer, &mut tracker, &mut analysis, settings, key) {
                face_result = Err(error);
                stop.store(true, Ordering::SeqCst);
                break;
            }
        }
        // Drain so the reader can finish after an error.
        for _ in keyframe_rx.iter() {}
        let timeline = reader.join().expect("reader thread panicked")?;
        face_result?;
        analysis.frames = timeline.times.len() as u64;
        analysis.times = timeline.times;
        analysis.cuts = timeline.cuts;
        analysis.splits = tracker.splits;
        analysis.tracks = tracker.finish();
        Ok::<_, anyhow::Error>(analysis)
    })?;
    analysis.times = source.times_of(std::mem::take(&mut analysis.times));
    Ok(analysis)
}

fn faces_at(
    analyzer: &mut FaceAnalyzer,
    tracker: &mut Tracker,
    analysis: &mut Analysis,
    settings: &AnalyseSettings,
    key: Keyframe,
) -> Result<()> {
    let picture = Picture::from_bgr(key.frame).context("reading a video frame")?;
    let detections = analyzer
        .detect(&picture, Some(settings.detect_width))
        .with_context(|| format!("detecting faces in frame {}", key.index))?;
    analysis.keyframes += 1;
    analysis.faces_detected += detections.len() as u64;
    let boxes: Vec<_> = detections.iter().map(|d| d.bbox).collect();
    let assigned = tracker.update(key.index, &boxes, key.cut);
    for (detection, &track) in detections.iter().zip(&assigned) {
        if !tracker.active[track].wants_embedding() {
            continue;
        }
        match analyzer.embed(&picture, detection, facecore::Views::MIRROR) {
            Ok(face) => {
                let probe =
                    classifier::face_vector(&face.embedding, face.mirror.as_ref(), settings.unit);
                tracker.add_embedding(
                    track,
                    EmbeddedFace {
                        embedding: &probe,
                        height: detection.bbox.height() as f32,
                        confidence: detection.confidence,
                    },
                );
                analysis.faces_embedded += 1;
            }
            Err(error) => {
                analysis.embed_errors.0 += 1;
                analysis.embed_errors.1.get_or_insert(error.to_string());
            }
        }
    }
    Ok(())
}

impl Analysis {
    /// The first pass without any face work (the `--passthrough` benchmark of decoding, cut
    /// detection and encoding alone).
    pub fn passthrough(source: &mut VideoSource) -> Result<Analysis> {
        let mut cuts = CutDetector::default();
        let mut analysis = Analysis::default();
        while let Some(frame) = source.read()? {
            analysis
                .times
                .push(source.time_of_last_frame(analysis.frames));
            if cuts.is_cut(Signature::of(&frame.image)?) {
                analysis.cuts.push(analysis.frames);
            }
            analysis.frames += 1;
        }
        analysis.times = source.times_of(std::mem::take(&mut analysis.times));
        Ok(analysis)
    }
}
