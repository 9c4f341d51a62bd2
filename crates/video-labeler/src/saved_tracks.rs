//! `--save-tracks DIR`: the best faces of every track as JPEG files (`DIR/track-<id>/<frame>.jpg`)
//! and an index (`DIR/tracks.msgpack`) of what each track was shown as, so that `teach` can turn
//! "track 14 is Jihyo" into training photos of this video's era. Faces are cut from the frames
//! as the second pass reads them, before anything is drawn, and written at once: memory stays flat.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use facefile::format::tracks::{SavedTrack, SavedTracks, TracksFile, TRACKS_FILE};
use facefile::{BoundingBox, Stamped};
use opencv::core::Mat;

use crate::decide::TrackDecision;
use crate::render::{crop_jpeg, Crop};
use crate::tracker::Track;

/// Faces kept per track: enough views for the encoder, few enough to check by eye.
pub const FACES_PER_TRACK: usize = 5;

/// Training crops: the whole head with room around it (the encoder detects the face again), small
/// faces scaled up to what the face models read (112 px), large ones down to 480 px.
const TRAINING_CROP: Crop = Crop {
    margin: 0.6,
    max_side: 480.0,
    min_face: 112.0,
};

/// The faces wanted from frames still to come, and those written.
pub struct TrackFaces {
    dir: PathBuf,
    wanted: HashMap<u64, Vec<(u32, BoundingBox)>>,
    written: HashMap<u32, Vec<String>>,
}

impl TrackFaces {
    /// Readies `dir`: created when missing; a folder an earlier `--save-tracks` filled is emptied
    /// of its tracks; any other folder with files in it is refused unless `force`.
    pub fn prepare(dir: &Path, force: bool) -> Result<TrackFaces> {
        if dir.exists() && !dir.is_dir() {
            bail!(
                "--save-tracks {} is a file, not a folder; give a folder (it is created)",
                dir.display()
            );
        }
        if dir.is_dir() {
            let ours = dir.join(TRACKS_FILE).is_file();
            let entries: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read {}", dir.display()))?
                .flatten()
                .map(|e| e.path())
                .collect();
            if !ours && !entries.is_empty() && !force {
                bail!(
                    "--save-tracks {} holds files that an earlier --save-tracks did not write; \
                     give an empty or new folder, or --force to add to it",
                    dir.display()
                );
            }
            // The tracks of the previous run go (they are this labeler's own files).
            for entry in entries {
                let name = entry.file_name().unwrap_or_default().to_string_lossy();
                if entry.is_dir() && name.starts_with("track-") {
                    std::fs::remove_dir_all(&entry)
                        .with_context(|| format!("cannot remove {}", entry.display()))?;
                } else if name == TRACKS_FILE {
                    std::fs::remove_file(&entry)
                        .with_context(|| format!("cannot remove {}", entry.display()))?;
                }
            }
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(TrackFaces {
            dir: dir.to_path_buf(),
            wanted: HashMap::new(),
            written: HashMap::new(),
        })
    }

    /// Chooses the faces of newly decided tracks (in frames not drawn yet): the largest, at least
    /// a few frames apart so they are not all the same view.
    pub fn consider(&mut self, tracks: &[Track]) {
        for track in tracks {
            let frames = track.sightings.last().map_or(0, |s| s.frame)
                - track.sightings.first().map_or(0, |s| s.frame);
            let spacing = frames / (2 * FACES_PER_TRACK as u64);
            let mut by_size: Vec<_> = track.sightings.iter().collect();
            by_size.sort_by_key(|s| std::cmp::Reverse(s.bbox.area()));
            let mut chosen: Vec<u64> = Vec::new();
            for sighting in by_size {
                if chosen.len() == FACES_PER_TRACK {
                    break;
                }
                if chosen
                    .iter()
                    .all(|&f| f.abs_diff(sighting.frame) >= spacing.max(1))
                {
                    chosen.push(sighting.frame);
                    self.wanted
                        .entry(sighting.frame)
                        .or_default()
                        .push((track.id, sighting.bbox));
                }
            }
        }
    }

    /// Cuts out and writes the faces wanted from this frame (before anything is drawn on it).
    pub fn take(&mut self, index: u64, frame: &Mat) -> Result<()> {
        let Some(faces) = self.wanted.remove(&index) else {
            return Ok(());
        };
        for (track, bbox) in faces {
            let relative = format!("track-{track:04}/{index:06}.jpg");
            let path = self.dir.join(&relative);
            let jpeg = crop_jpeg(frame, &bbox, &TRAINING_CROP)?;
            std::fs::create_dir_all(path.parent().expect("a track folder"))
                .with_context(|| format!("cannot create {}", path.display()))?;
            facefile::fs::write_atomic(&path, &jpeg)?;
            self.written.entry(track).or_default().push(relative);
        }
        Ok(())
    }

    /// Writes the index, last: a tracks folder with an index is complete.
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        mut self,
        video: &Path,
        model: &Path,
        tracks: &[Track],
        decisions: &[TrackDecision],
        times: &[f64],
        classes: &[String],
    ) -> Result<PathBuf> {
        let time = |frame: u64| {
            let start = times.first().copied().unwrap_or(0.0);
            times.get(frame as usize).map_or(0.0, |t| t - start)
        };
        let mut saved: Vec<SavedTrack> = tracks
            .iter()
            .zip(decisions)
            .map(|(track, decision)| {
                let mut faces = self.written.remove(&track.id).unwrap_or_default();
                faces.sort();
                SavedTrack {
                    id: track.id,
                    name: decision.class.map(|c| classes[c].clone()),
                    probability: decision.probability,
                    candidates: decision
                        .candidates
                        .iter()
                        .map(|&(c, p)| (classes[c].clone(), p))
                        .collect(),
                    start: time(track.sightings.first().map_or(0, |s| s.frame)),
                    end: time(track.sightings.last().map_or(0, |s| s.frame)),
                    faces,
                }
            })
            .filter(|t| !t.faces.is_empty())
            .collect();
        saved.sort_by_key(|t| t.id);
        let full = |p: &Path| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        };
        let file: TracksFile = Stamped::new(
            format!("video-labeler {}", env!("CARGO_PKG_VERSION")),
            None,
            SavedTracks {
                video: video.display().to_string(),
                video_full_path: full(video),
                model: full(model),
                tracks: saved,
            },
        );
        let index = self.dir.join(TRACKS_FILE);
        file.write(&index)?;
        Ok(index)
    }
}
