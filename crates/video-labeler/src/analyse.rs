//! The first pass: read the video, find the cuts, detect faces on keyframes (every `detect_every`
//! frames and at every cut), follow them as tracks and embed them. Nothing is drawn here: a track's
//! name is decided from all of its faces, so even its first frame shows the name the whole track
//! supports. As soon as every track on some stretch of frames has ended (at a cut, or when no face
//! is left on screen), that stretch is decided and handed to the second pass as a [`Segment`], so
//! the two passes run side by side and the slower sets the pace, not their sum.
//!
//! Decoding runs on its own thread, feeding frames to the face work through a small bounded queue;
//! no frame is kept once its faces are found (the second pass decodes again), so memory does not
//! grow with the video.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use classifier::Rules;
use crossbeam_channel::{bounded, Sender};
use facecore::{FaceAnalyzer, Picture};
use indicatif::ProgressBar;
use opencv::core::Mat;

use crate::decide::{self, TrackDecision};
use crate::shots::{CutDetector, Signature};
use crate::tracker::{EmbeddedFace, Track, Tracker};
use crate::video::VideoSource;

#[derive(Debug, Clone, Copy)]
pub struct AnalyseSettings {
    /// Detect every this many frames (and at every cut); twice as far apart while every face on
    /// screen is steady.
    pub detect_every: u64,
    /// Detection runs on frames scaled down to at most this width (embedding uses full frames).
    pub detect_width: u32,
    /// A face farther than this from its track's mean face starts a new track.
    pub split_distance: f32,
    /// The embedder's vectors have unit length.
    pub unit: bool,
    /// Frames a track's last box stays on screen after its last sighting, at most.
    pub hold_frames: u64,
}

/// While faces stay still, keyframes come up to this many times `detect_every` apart.
pub const MAX_STEADY_GAPS: u64 = 3;

/// Frames the first pass hands over at least this often when there is no face work (the
/// passthrough benchmark), so the second pass is never starved.
const PASSTHROUGH_SEGMENT: u64 = 30;

/// A stretch of the video whose faces are all decided: the frames after the previous segment's,
/// up to and including `until`.
#[derive(Debug)]
pub struct Segment {
    pub until: u64,
    /// Presentation times of those frames, in order (seconds).
    pub times: Vec<f64>,
    /// Those of them that start a shot.
    pub cuts: Vec<u64>,
    /// The tracks of those frames (split where their name changes), with their decisions and the
    /// last frame each is drawn on.
    pub tracks: Vec<Track>,
    pub decisions: Vec<TrackDecision>,
    pub ends: Vec<u64>,
}

/// How the first pass went.
#[derive(Debug, Default)]
pub struct FirstPass {
    pub frames: u64,
    pub keyframes: u64,
    pub faces_detected: u64,
    pub faces_embedded: u64,
    /// Tracks split because a face's embedding jumped (cuts the cut rule missed), or because they
    /// lost their name for a while to a likelier face.
    pub splits: u32,
    /// Faces that could not be embedded (OpenCV errors), with the first message.
    pub embed_errors: (u64, Option<String>),
}

/// The whole video as both passes saw it, for the files written at the end.
#[derive(Debug, Default)]
pub struct Analysis {
    pub frames: u64,
    /// Frames that start a new shot (the first frame included).
    pub cuts: Vec<u64>,
    pub tracks: Vec<Track>,
}

/// What everything is decided with.
pub struct Naming<'a> {
    pub rules: &'a Rules<'a>,
}

/// One decoded frame, as the reader hands it over.
struct Decoded {
    index: u64,
    time: f64,
    cut: bool,
    /// The picture, for keyframes only.
    keyframe: Option<Mat>,
}

/// What the face work keeps between keyframes: the tracker and what has not been handed over.
struct Pending {
    tracker: Tracker,
    /// The last frame handed over (`None` before the first segment).
    handed: Option<u64>,
    times: Vec<f64>,
    cuts: Vec<u64>,
}

/// Reads the whole video, hands decided segments to `segments` as it goes, and says how it went.
/// With no `analyzer` (the passthrough benchmark) no face is looked for.
pub fn first_pass(
    source: &mut VideoSource,
    mut analyzer: Option<&mut FaceAnalyzer>,
    settings: &AnalyseSettings,
    naming: &Naming,
    stop: &AtomicBool,
    bar: &ProgressBar,
    segments: Sender<Segment>,
) -> Result<FirstPass> {
    // A keyframe is a whole decoded frame (6 MB at 1080p): three in the queue are enough to keep
    // the face work busy (measured: 17 MB less at 1080p than six, with the render queue at two,
    // and no change in speed beyond the run-to-run spread).
    let (frame_tx, frame_rx) = bounded::<Decoded>(3);
    // After each keyframe, the face work says how many frames the next one comes after (more as
    // faces stay still). The reader waits for that word before it picks a keyframe, so which
    // frames are looked at never depends on how far ahead of the face work it ran: the same video
    // always gives the same labels.
    let (gap_tx, gap_rx) = crossbeam_channel::unbounded::<u64>();
    let faces_wanted = analyzer.is_some();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> Result<()> {
            let mut cuts = CutDetector::default();
            let mut keys = KeyframePicker::new(settings.detect_every);
            let mut index = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let Some(frame) = source.read()? else { break };
                let time = source.time_of_frame(index);
                let cut = cuts.is_cut(Signature::of(&frame.image)?);
                if keys.may_be_due(index) {
                    // Every keyframe sent so far has been answered, or the face work has stopped.
                    while keys.unanswered > 0 {
                        let Ok(gap) = gap_rx.recv() else {
                            return Ok(());
                        };
                        keys.answered(gap);
                    }
                }
                let keyframe =
                    (faces_wanted && keys.is_keyframe(index, cut)).then_some(frame.image);
                let decoded = Decoded {
                    index,
                    time,
                    cut,
                    keyframe,
                };
                if frame_tx.send(decoded).is_err() {
                    break;
                }
                bar.inc(1);
                index += 1;
            }
            Ok(())
        });

        let mut pass = FirstPass::default();
        let mut pending = Pending {
            tracker: Tracker::new(settings.unit, settings.split_distance),
            handed: None,
            times: Vec::new(),
            cuts: Vec::new(),
        };
        let mut widths = DetectWidth::default();
        let mut gap = settings.detect_every;
        let mut result: Result<()> = Ok(());
        for decoded in frame_rx.iter() {
            let step = (|| -> Result<()> {
                if decoded.cut && decoded.index > 0 {
                    // Every track ends at a cut: what came before is decided.
                    pending.tracker.end_all();
                    hand_over(&mut pending, decoded.index - 1, settings, naming, &segments)?;
                }
                pending.times.push(decoded.time);
                if decoded.cut {
                    pending.cuts.push(decoded.index);
                }
                pass.frames = decoded.index + 1;
                match (decoded.keyframe, analyzer.as_deref_mut()) {
                    (Some(image), Some(analyzer)) => {
                        let key = Keyframe {
                            index: decoded.index,
                            frame: image,
                            cut: decoded.cut,
                        };
                        faces_at(
                            analyzer,
                            &mut pending.tracker,
                            &mut widths,
                            &mut pass,
                            settings,
                            key,
                        )?;
                        // Still faces need fewer looks (boxes are interpolated in between): the
                        // gap grows while they stay still, up to three times the usual.
                        gap = if pending.tracker.steady(decoded.index) {
                            (gap + settings.detect_every)
                                .min(MAX_STEADY_GAPS * settings.detect_every)
                        } else {
                            settings.detect_every
                        };
                        // The reader is gone only when it stopped (an error it reports).
                        let _ = gap_tx.send(gap);
                        if pending.tracker.active.is_empty() {
                            // Nobody on screen: no track spans this frame and the next.
                            hand_over(&mut pending, decoded.index, settings, naming, &segments)?;
                        }
                    }
                    _ if !faces_wanted && (decoded.index + 1) % PASSTHROUGH_SEGMENT == 0 => {
                        hand_over(&mut pending, decoded.index, settings, naming, &segments)?;
                    }
                    _ => {}
                }
                Ok(())
            })();
            if let Err(error) = step {
                result = Err(error);
                stop.store(true, Ordering::SeqCst);
                break;
            }
        }
        // Drain so the reader can finish after an error (and never waits for a gap again).
        drop(gap_tx);
        for _ in frame_rx.iter() {}
        reader.join().expect("reader thread panicked")?;
        result?;
        if !stop.load(Ordering::SeqCst) && pass.frames > 0 {
            pending.tracker.end_all();
            hand_over(&mut pending, pass.frames - 1, settings, naming, &segments)?;
        }
        pass.splits += pending.tracker.splits;
        Ok(pass)
    })
}

/// Decides the ended tracks and hands them, with the frames up to `until`, to the second pass.
fn hand_over(
    pending: &mut Pending,
    until: u64,
    settings: &AnalyseSettings,
    naming: &Naming,
    segments: &Sender<Segment>,
) -> Result<()> {
    if pending.handed.is_some_and(|h| h >= until) {
        return Ok(());
    }
    let tracks = pending.tracker.take_ended();
    // Drawn for `hold_frames` after the last sighting, never past this segment (a cut, or frames
    // nobody is on).
    let shown_until =
        crate::render::shown_until(&tracks, &[until + 1], until + 1, settings.hold_frames);
    let named = decide::decide_tracks(tracks, &shown_until, naming.rules, pending.tracker.next_id);
    pending.tracker.next_id = named.next_id;
    pending.tracker.splits += named.splits;
    let ends =
        crate::render::shown_until(&named.tracks, &[until + 1], until + 1, settings.hold_frames);
    let segment = Segment {
        ends,
        until,
        times: std::mem::take(&mut pending.times),
        cuts: std::mem::take(&mut pending.cuts),
        tracks: named.tracks,
        decisions: named.decisions,
    };
    pending.handed = Some(until);
    // The second pass has stopped (an error there): it says why.
    let _ = segments.send(segment);
    Ok(())
}

/// Which frames the face work looks at: the first, every cut, and each frame `gap` after the
/// last keyframe, `gap` being the face work's answer to that keyframe.
#[derive(Debug)]
struct KeyframePicker {
    /// The shortest gap there is (`--detect-every`).
    shortest: u64,
    last: Option<u64>,
    gap: u64,
    /// Keyframes whose gap the face work has not said yet.
    unanswered: u32,
}

impl KeyframePicker {
    fn new(shortest: u64) -> KeyframePicker {
        KeyframePicker {
            shortest,
            last: None,
            gap: shortest,
            unanswered: 0,
        }
    }

    /// Whether frame `index` could be due, so the answers must be in before deciding. Frames
    /// closer to the last keyframe than the shortest gap never are, so the reader decodes those
    /// while the face work looks at it.
    fn may_be_due(&self, index: u64) -> bool {
        self.last.is_some_and(|last| index - last >= self.shortest)
    }

    /// The face work's answer to the oldest unanswered keyframe.
    fn answered(&mut self, gap: u64) {
        self.unanswered = self.unanswered.saturating_sub(1);
        self.gap = gap.max(1);
    }

    /// Whether frame `index` (a cut or not) is a keyframe; counts it as one if so.
    fn is_keyframe(&mut self, index: u64, cut: bool) -> bool {
        let due = self.last.is_none_or(|last| index - last >= self.gap);
        if cut || due {
            self.last = Some(index);
            self.unanswered += 1;
        }
        cut || due
    }
}

struct Keyframe {
    index: u64,
    frame: Mat,
    cut: bool,
}

/// A face this tall (pixels, in the picture the detector looks at) is found as reliably, with
/// landmarks as precise for the embedder, as a larger one.
const COMFORTABLE_FACE: f64 = 96.0;
/// The detector never looks at pictures narrower than this.
const MIN_DETECT_WIDTH: u32 = 480;
/// Every this many keyframes (and at every cut) the detector looks at the full `--detect-width`,
/// so faces smaller than those already seen are found when they come.
const FULL_WIDTH_EVERY: u32 = 6;

/// The width the detector looks at: the full `--detect-width` at cuts and every few keyframes;
/// in between, narrower when every face of the shot is large (a close-up needs far fewer pixels
/// than a group shot, and detection is half of the face work at 1080p).
#[derive(Debug, Default)]
pub struct DetectWidth {
    /// The smallest face height (full-resolution pixels) found at the last full-width look.
    smallest: Option<f64>,
    since_full: u32,
}

impl DetectWidth {
    /// The width to detect at for this keyframe of a `frame_width`-wide video.
    fn next(&mut self, cut: bool, frame_width: u32, detect_width: u32) -> (u32, bool) {
        let full = detect_width.min(frame_width);
        if cut || self.since_full + 1 >= FULL_WIDTH_EVERY || self.smallest.is_none() {
            self.since_full = 0;
            return (full, true);
        }
        self.since_full += 1;
        let smallest = self.smallest.expect("checked");
        let wanted = (frame_width as f64 * COMFORTABLE_FACE / smallest).ceil() as u32;
        (wanted.clamp(MIN_DETECT_WIDTH.min(full), full), false)
    }

    /// What a full-width look found.
    fn found(&mut self, heights: impl Iterator<Item = f64>) {
        self.smallest = heights.fold(None, |m: Option<f64>, h| Some(m.map_or(h, |m| m.min(h))));
    }
}

fn faces_at(
    analyzer: &mut FaceAnalyzer,
    tracker: &mut Tracker,
    widths: &mut DetectWidth,
    analysis: &mut FirstPass,
    settings: &AnalyseSettings,
    key: Keyframe,
) -> Result<()> {
    let picture = Picture::from_bgr(key.frame).context("reading a video frame")?;
    let (width, full) = widths.next(key.cut, picture.width(), settings.detect_width);
    let detections = analyzer
        .detect(&picture, Some(width))
        .with_context(|| format!("detecting faces in frame {}", key.index))?;
    if full {
        widths.found(detections.iter().map(|d| d.bbox.height() as f64));
    }
    analysis.keyframes += 1;
    analysis.faces_detected += detections.len() as u64;
    let boxes: Vec<_> = detections.iter().map(|d| d.bbox).collect();
    let assigned = tracker.update(key.index, &boxes, key.cut);
    for (detection, &track) in detections.iter().zip(&assigned) {
        if !tracker.active[track].wants_embedding() {
            continue;
        }
        let views = if tracker.active[track].wants_mirror() {
            facecore::Views::MIRROR
        } else {
            facecore::Views::NONE
        };
        match analyzer.embed(&picture, detection, views) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames 0..n through the picker, the face work answering each keyframe with `gap_after`
    /// as soon as the reader asks: the keyframes picked.
    fn keyframes(n: u64, cuts: &[u64], gap_after: impl Fn(u64) -> u64) -> Vec<u64> {
        let mut picker = KeyframePicker::new(3);
        let mut unanswered = std::collections::VecDeque::new();
        let mut picked = Vec::new();
        for index in 0..n {
            if picker.may_be_due(index) {
                while let Some(key) = unanswered.pop_front() {
                    picker.answered(gap_after(key));
                }
                assert_eq!(picker.unanswered, 0);
            }
            if picker.is_keyframe(index, cuts.contains(&index)) {
                picked.push(index);
                unanswered.push_back(index);
            }
        }
        picked
    }

    #[test]
    fn keyframes_follow_the_face_works_answers_and_every_cut() {
        // The usual gap: every third frame.
        assert_eq!(keyframes(10, &[], |_| 3), [0, 3, 6, 9]);
        // Steady faces: the gap each keyframe's answer gives, whenever the answer came.
        assert_eq!(
            keyframes(30, &[], |k| if k == 0 { 6 } else { 9 }),
            [0, 6, 15, 24]
        );
        // A cut is a keyframe, however close to the last, and the gap counts from it; two cuts
        // in a row leave two answers to wait for, the later one counting.
        assert_eq!(
            keyframes(20, &[4, 5], |k| if k == 5 { 6 } else { 3 }),
            [0, 3, 4, 5, 11, 14, 17]
        );
    }

    #[test]
    fn detection_looks_narrower_at_large_faces_and_fully_at_cuts_and_regularly() {
        let mut widths = DetectWidth::default();
        // A cut, or nothing seen yet: the full width.
        assert_eq!(widths.next(true, 1920, 960), (960, true));
        widths.found([400.0, 300.0].into_iter());
        // Faces of 300 px in a 1920-px frame: 614 px wide is enough for 96-px faces.
        assert_eq!(widths.next(false, 1920, 960), (615, false));
        for _ in 0..FULL_WIDTH_EVERY - 2 {
            assert!(!widths.next(false, 1920, 960).1);
        }
        assert_eq!(
            widths.next(false, 1920, 960),
            (960, true),
            "every few keyframes"
        );
        // Small faces: the full width all along; a huge face: never under 480 px.
        widths.found([40.0].into_iter());
        assert_eq!(widths.next(false, 1920, 960), (960, false));
        widths.next(true, 1920, 960);
        widths.found([1000.0].into_iter());
        assert_eq!(widths.next(false, 1920, 960).0, 480);
        // A video narrower than --detect-width is never looked at wider than it is.
        widths.next(true, 400, 960);
        widths.found([200.0].into_iter());
        assert_eq!(widths.next(false, 400, 960).0, 400);
        // Nobody found: full width.
        widths.next(true, 1920, 960);
        widths.found(std::iter::empty());
        assert_eq!(widths.next(false, 1920, 960), (960, true));
    }
}
