//! The second pass: read the video again and draw each track's box and decided name on every frame
//! it spans (boxes interpolated between keyframes), write the labelled video, and record what was
//! shown (labels, screen time).

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use crossbeam_channel::Receiver;
use facefile::format::labels::{FaceLabel, FrameLabels};
use facefile::BoundingBox;
use indicatif::ProgressBar;
use opencv::core::Mat;

use crate::analyse::Segment;
use crate::decide::TrackDecision;
use crate::draw::{Colours, Labelled, Painter};
use crate::saved_tracks::TrackFaces;
use crate::screentime::ScreenTime;
use crate::tracker::Track;
use crate::video::{Frame, VideoSource};

/// How to draw.
#[derive(Debug, Clone)]
pub struct DrawOptions {
    pub hide_unknown: bool,
    /// Write the best guess on Unknown faces: "Unknown (Mina? 33%)".
    pub show_guesses: bool,
    /// Each person's colour.
    pub colours: Colours,
}

/// One face on one frame.
#[derive(Debug, Clone)]
pub struct Shown {
    pub track: usize,
    pub bbox: BoundingBox,
}

/// Where every track's box is on each frame: interpolated between its sightings, held a little after
/// the last, never across a cut. Tracks are added as their segments are decided, in time order.
#[derive(Default)]
pub struct Placement {
    pub tracks: Vec<Track>,
    pub decisions: Vec<TrackDecision>,
    /// Per track, the last frame it is shown on.
    ends: Vec<u64>,
    /// Track indices by first frame, from `next` on not yet live.
    order: Vec<usize>,
    next: usize,
    live: Vec<usize>,
}

impl Placement {
    /// Adds a segment's tracks, each shown until `ends[i]`; they start after every track added
    /// before (segments come in time order).
    pub fn add(&mut self, tracks: Vec<Track>, decisions: Vec<TrackDecision>, ends: Vec<u64>) {
        let first = self.tracks.len();
        let mut order: Vec<usize> = (first..first + tracks.len()).collect();
        self.tracks.extend(tracks);
        self.decisions.extend(decisions);
        self.ends.extend(ends);
        order.sort_by_key(|&t| (self.tracks[t].first_frame(), t));
        self.order.extend(order);
    }

    /// The faces on `frame`; frames must be asked in increasing order.
    pub fn at(&mut self, frame: u64) -> Vec<Shown> {
        while self.next < self.order.len()
            && self.tracks[self.order[self.next]].first_frame() <= frame
        {
            self.live.push(self.order[self.next]);
            self.next += 1;
        }
        self.live.retain(|&t| self.ends[t] >= frame);
        self.live
            .iter()
            .map(|&t| Shown {
                track: t,
                bbox: box_at(&self.tracks[t], frame),
            })
            .collect()
    }
}

/// The last frame each track is drawn on: its last sighting is held until the keyframe that no
/// longer saw it (at most `max_hold` frames), or, for a track still seen when its shot ended, until
/// the cut; never past the video's end, or the start of the track's next piece when it was split.
pub fn shown_until(tracks: &[Track], cuts: &[u64], frames: u64, max_hold: u64) -> Vec<u64> {
    tracks
        .iter()
        .map(|track| {
            let last = track.last_frame();
            if let Some(until) = track.shown_until {
                return until;
            }
            let next_cut = cuts.iter().copied().find(|&c| c > last).unwrap_or(frames);
            let held = match track.missed_at {
                Some(missed) => missed.saturating_sub(1),
                None => next_cut.saturating_sub(1),
            };
            held.min(last + max_hold)
                .min(next_cut.saturating_sub(1))
                .min(frames.saturating_sub(1))
                .max(last)
        })
        .collect()
}

/// A track's box on `frame`: its sighting there, a linear blend of the sightings around it, or the
/// last one.
pub fn box_at(track: &Track, frame: u64) -> BoundingBox {
    let sightings = &track.sightings;
    match sightings.binary_search_by_key(&frame, |s| s.frame) {
        Ok(i) => sightings[i].bbox,
        Err(0) => sightings[0].bbox,
        Err(i) if i == sightings.len() => sightings[i - 1].bbox,
        Err(i) => {
            let (a, b) = (&sightings[i - 1], &sightings[i]);
            let t = (frame - a.frame) as f64 / (b.frame - a.frame) as f64;
            a.bbox.lerp(&b.bbox, t)
        }
    }
}

/// The text on a face's label.
pub fn label_text(decision: &TrackDecision, classes: &[String], show_guesses: bool) -> String {
    match decision.class {
        Some(c) => format!("{} {:.0}%", classes[c], decision.probability * 100.0),
        // Someone else on screen is likelier to be her: say whom this one might be too.
        None if decision.lost_to_another.is_some() => format!(
            "Unknown ({}?)",
            classes[decision.lost_to_another.expect("checked")]
        ),
        None => match decision.candidates.first() {
            Some(&(c, p)) if show_guesses => {
                format!("Unknown ({}? {:.0}%)", classes[c], p * 100.0)
            }
            _ => "Unknown".to_string(),
        },
    }
}

/// What the second pass produced besides the video.
pub struct Rendered {
    pub frames: Vec<FrameLabels>,
    pub screen: ScreenTime,
    /// Each person's best face (JPEG), by class, for the report page.
    pub faces: Vec<Option<Vec<u8>>>,
}

/// Where each person's best face is: her largest sighting in a track named for her.
pub struct BestFaces {
    /// Per class: the largest face so far, and its frame.
    best: Vec<Option<(i64, u64)>>,
    wanted: std::collections::HashMap<u64, Vec<(usize, BoundingBox)>>,
    found: Vec<Option<Vec<u8>>>,
}

impl BestFaces {
    pub fn new(classes: usize) -> BestFaces {
        BestFaces {
            best: vec![None; classes],
            wanted: Default::default(),
            found: vec![None; classes],
        }
    }

    /// Looks at newly decided tracks (all in frames not drawn yet): a larger face of someone
    /// than any so far is taken when its frame is drawn.
    pub fn consider(&mut self, tracks: &[Track], decisions: &[TrackDecision]) {
        for (track, decision) in tracks.iter().zip(decisions) {
            let Some(class) = decision.class else {
                continue;
            };
            for sighting in &track.sightings {
                let area = sighting.bbox.area();
                if self.best[class].is_none_or(|(a, _)| area > a) {
                    self.best[class] = Some((area, sighting.frame));
                    for faces in self.wanted.values_mut() {
                        faces.retain(|(c, _)| *c != class);
                    }
                    self.wanted
                        .entry(sighting.frame)
                        .or_default()
                        .push((class, sighting.bbox));
                }
            }
        }
    }

    /// Takes the faces wanted from this frame (before anything is drawn on it).
    fn take(&mut self, index: u64, frame: &Mat) {
        let Some(faces) = self.wanted.remove(&index) else {
            return;
        };
        for (class, bbox) in faces {
            self.found[class] = crop_jpeg(frame, &bbox, &REPORT_CROP).ok();
        }
    }
}

/// How a face is cut out of a frame.
pub struct Crop {
    /// Margin on each side, as a share of the face's larger side.
    pub margin: f64,
    /// The crop's larger side is scaled to at most this (never up, unless `min_face`).
    pub max_side: f64,
    /// The face's larger side is scaled up to at least this.
    pub min_face: f64,
}

/// The report page's faces: a little margin, at most 160 px.
const REPORT_CROP: Crop = Crop {
    margin: 0.25,
    max_side: 160.0,
    min_face: 0.0,
};

/// The face with a margin, scaled as `crop` says, as JPEG.
pub fn crop_jpeg(frame: &Mat, bbox: &BoundingBox, crop: &Crop) -> Result<Vec<u8>> {
    use opencv::core::{Rect, Size};
    use opencv::prelude::*;
    let face_side = bbox.width().max(bbox.height()).max(1);
    let margin = (face_side as f64 * crop.margin).round() as i32;
    let grown = BoundingBox::new(
        bbox.left - margin,
        bbox.top - margin,
        bbox.right + margin,
        bbox.bottom + margin,
    )
    .clip(frame.cols() as u32, frame.rows() as u32);
    let roi = Mat::roi(
        frame,
        Rect::new(grown.left, grown.top, grown.width(), grown.height()),
    )?;
    let side = grown.width().max(grown.height()).max(1) as f64;
    let scale = (crop.max_side / side)
        .min(1.0)
        .max(crop.min_face / face_side as f64);
    let interpolation = if scale > 1.0 {
        opencv::imgproc::INTER_CUBIC
    } else {
        opencv::imgproc::INTER_AREA
    };
    let mut small = Mat::default();
    opencv::imgproc::resize(
        &roi,
        &mut small,
        Size::new(
            ((grown.width() as f64 * scale).round() as i32).max(1),
            ((grown.height() as f64 * scale).round() as i32).max(1),
        ),
        0.0,
        0.0,
        interpolation,
    )?;
    let rgb = facecore::picture::bgr_to_rgb(&small)?;
    Ok(facecore::encode_jpeg(&rgb, 92)?)
}

/// What the second pass ends with besides the video: what was drawn, and the whole first pass's
/// tracks, decisions, times and cuts.
pub struct SecondPass {
    pub rendered: Rendered,
    pub tracks: Vec<Track>,
    pub decisions: Vec<TrackDecision>,
    pub cuts: Vec<u64>,
}

/// Decisions of the first pass not (yet) there for a frame: it stopped (an error there, or
/// Ctrl-C) before deciding it.
#[derive(Debug)]
pub struct FirstPassStopped;

impl std::fmt::Display for FirstPassStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the first pass stopped before deciding every frame")
    }
}

impl std::error::Error for FirstPassStopped {}

/// Draws and writes every frame as soon as the first pass has decided it (`segments`); `write`
/// gets each finished frame in order, with its time.
#[allow(clippy::too_many_arguments)]
pub fn second_pass(
    source: &mut VideoSource,
    segments: Receiver<Segment>,
    classes: &[String],
    options: &DrawOptions,
    stop: &AtomicBool,
    bar: &ProgressBar,
    track_faces: Option<&mut TrackFaces>,
    mut write: impl FnMut(Mat, f64) -> Result<()>,
) -> Result<SecondPass> {
    let mut painter = Painter::new(source.height);
    let fps = source.fps;
    // Decoding runs on its own thread, a few frames ahead of drawing and encoding.
    let (frame_tx, frame_rx) = crossbeam_channel::bounded::<Frame>(2);
    std::thread::scope(|scope| -> Result<SecondPass> {
        let reader = scope.spawn(move || -> Result<()> {
            while !stop.load(Ordering::SeqCst) {
                let Some(frame) = source.read()? else { break };
                if frame_tx.send(frame).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let mut drawing = Drawing {
            placement: Placement::default(),
            screen: ScreenTime::new(classes.to_vec()),
            frames: Vec::new(),
            best: BestFaces::new(classes.len()),
            track_faces,
            times: Vec::new(),
            cuts: Vec::new(),
            covered: None,
            pending: None,
            fps,
        };
        let drawn = drawing.draw_all(
            frame_rx.iter(),
            &segments,
            classes,
            options,
            &mut painter,
            bar,
            &mut write,
        );
        // Let the reader finish whatever happened here.
        drop(frame_rx);
        reader.join().expect("reader thread panicked")?;
        drawn?;
        // Frames the first pass decided that the second read did not give (a file still being
        // written) are counted by the caller; the rest of the segments are taken for the totals.
        for segment in segments.iter() {
            drawing.take(segment);
        }
        let average = average_duration(&drawing.times, fps);
        if let Some((people, unknown, _)) = drawing.pending.take() {
            drawing.screen.add_frame(average, &people, unknown);
        }
        Ok(SecondPass {
            rendered: Rendered {
                frames: std::mem::take(&mut drawing.frames),
                screen: drawing.screen.clone(),
                faces: std::mem::take(&mut drawing.best.found),
            },
            tracks: std::mem::take(&mut drawing.placement.tracks),
            decisions: std::mem::take(&mut drawing.placement.decisions),
            cuts: drawing.cuts,
        })
    })
}

/// The second pass's state between frames.
struct Drawing<'t> {
    placement: Placement,
    screen: ScreenTime,
    frames: Vec<FrameLabels>,
    best: BestFaces,
    /// `--save-tracks`: every track's best faces, cut out as the frames go by.
    track_faces: Option<&'t mut TrackFaces>,
    times: Vec<f64>,
    cuts: Vec<u64>,
    /// The last frame decided so far.
    covered: Option<u64>,
    /// The previous frame's people, whether an Unknown face was on it, and its time: its screen
    /// time is counted once the next frame's time is known.
    pending: Option<(Vec<usize>, bool, f64)>,
    fps: f64,
}

impl Drawing<'_> {
    fn take(&mut self, segment: Segment) {
        self.best.consider(&segment.tracks, &segment.decisions);
        if let Some(faces) = self.track_faces.as_deref_mut() {
            faces.consider(&segment.tracks);
        }
        self.placement
            .add(segment.tracks, segment.decisions, segment.ends);
        self.times.extend(segment.times);
        self.cuts.extend(segment.cuts);
        self.covered = Some(segment.until);
    }

    #[allow(clippy::too_many_arguments)]
    fn draw_all(
        &mut self,
        decoded: impl Iterator<Item = Frame>,
        segments: &Receiver<Segment>,
        classes: &[String],
        options: &DrawOptions,
        painter: &mut Painter,
        bar: &ProgressBar,
        write: &mut impl FnMut(Mat, f64) -> Result<()>,
    ) -> Result<()> {
        for (index, mut frame) in (0u64..).zip(decoded) {
            while self.covered.is_none_or(|c| c < index) {
                match segments.recv() {
                    Ok(segment) => self.take(segment),
                    Err(_) => return Err(FirstPassStopped.into()),
                }
            }
            self.best.take(index, &frame.image);
            if let Some(faces) = self.track_faces.as_deref_mut() {
                faces.take(index, &frame.image)?;
            }
            let shown = self.placement.at(index);
            let mut labels = Vec::with_capacity(shown.len());
            let mut people = Vec::new();
            let mut unknown = false;
            let mut texts = Vec::with_capacity(shown.len());
            for face in &shown {
                let decision = &self.placement.decisions[face.track];
                match decision.class {
                    Some(c) => people.push(c),
                    None => unknown = true,
                }
                if decision.class.is_some() || !options.hide_unknown {
                    texts.push((
                        face.bbox,
                        label_text(decision, classes, options.show_guesses),
                        options.colours.of(decision.class),
                    ));
                }
                labels.push(FaceLabel {
                    bbox: face.bbox,
                    track: self.placement.tracks[face.track].id,
                    name: decision.class.map(|c| classes[c].clone()),
                    probability: decision.probability,
                });
            }
            let drawn: Vec<Labelled> = texts
                .iter()
                .map(|(bbox, label, rgb)| Labelled {
                    bbox: *bbox,
                    label,
                    rgb: *rgb,
                })
                .collect();
            painter.faces(&mut frame.image, &drawn)?;
            people.sort_unstable();
            people.dedup();
            let time = self.times.get(index as usize).copied().unwrap_or(0.0);
            if let Some((people, unknown, previous)) = self.pending.take() {
                let duration = time - previous;
                let duration = if duration > 0.0 {
                    duration
                } else {
                    average_duration(&self.times, self.fps)
                };
                self.screen.add_frame(duration, &people, unknown);
            }
            self.pending = Some((people, unknown, time));
            write(frame.image, time)?;
            self.frames.push(FrameLabels {
                index,
                time,
                faces: labels,
            });
            bar.inc(1);
        }
        Ok(())
    }
}

/// The average frame duration from the timestamps, or 1/fps.
fn average_duration(times: &[f64], fps: f64) -> f64 {
    match (times.first(), times.last()) {
        (Some(first), Some(last)) if times.len() > 1 && last > first => {
            (last - first) / (times.len() - 1) as f64
        }
        _ => 1.0 / fps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::Tracker;

    #[test]
    fn boxes_are_interpolated_held_and_stop_at_cuts() {
        let mut tracker = Tracker::new(false, 1.0);
        tracker.update(0, &[BoundingBox::new(0, 0, 100, 100)], true);
        tracker.update(3, &[BoundingBox::new(30, 0, 130, 100)], false);
        tracker.update(9, &[BoundingBox::new(90, 0, 190, 100)], false);
        let tracks = tracker.finish();
        let ends = shown_until(&tracks, &[0, 11], 20, 3);
        let mut placement = Placement::default();
        let decisions = vec![
            TrackDecision {
                class: None,
                probability: 0.0,
                distance: 0.0,
                candidates: Vec::new(),
                lost_to_another: None,
                under_half: false,
                reason: None,
            };
            tracks.len()
        ];
        placement.add(tracks, decisions, ends);
        let at =
            |p: &mut Placement, f: u64| p.at(f).iter().map(|s| s.bbox.left).collect::<Vec<_>>();
        assert_eq!(at(&mut placement, 0), [0]);
        assert_eq!(at(&mut placement, 1), [10]);
        assert_eq!(
            at(&mut placement, 6),
            [60],
            "across the missed keyframe at 6"
        );
        assert_eq!(at(&mut placement, 10), [90], "held after the last sighting");
        assert!(at(&mut placement, 11).is_empty(), "never across a cut");
    }

    #[test]
    fn unknown_labels_can_show_the_best_guess() {
        let classes = vec!["Mina".to_string(), "Nayeon".to_string()];
        let unknown = TrackDecision {
            class: None,
            probability: 0.33,
            distance: 0.9,
            candidates: vec![(0, 0.33), (1, 0.2)],
            lost_to_another: None,
            under_half: false,
            reason: Some("x".into()),
        };
        assert_eq!(label_text(&unknown, &classes, false), "Unknown");
        let lost = TrackDecision {
            lost_to_another: Some(1),
            ..unknown.clone()
        };
        assert_eq!(label_text(&lost, &classes, false), "Unknown (Nayeon?)");
        assert_eq!(label_text(&unknown, &classes, true), "Unknown (Mina? 33%)");
        let known = TrackDecision {
            class: Some(1),
            probability: 0.874,
            ..unknown
        };
        assert_eq!(label_text(&known, &classes, true), "Nayeon 87%");
        assert_eq!(average_duration(&[0.0, 0.1, 0.3], 25.0), 0.15);
    }
}
