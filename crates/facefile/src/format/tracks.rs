//! `tracks.msgpack` in the folder `video-labeler --save-tracks DIR` fills: each track of a video
//! with what it was shown as and the files of its best faces (`track-<id>/<frame>.jpg` beside it),
//! so a fan can say "track 14 is Jihyo" and `teach` turns those faces into training photos.

use serde::{Deserialize, Serialize};

use super::{finite, Format, Stamped};
use crate::embedding::EmbedderId;

/// The index's name in the tracks folder.
pub const TRACKS_FILE: &str = "tracks.msgpack";

/// The tracks file.
pub type TracksFile = Stamped<SavedTracks>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTracks {
    /// The video the tracks are from, as given to the labeler, and its full path.
    pub video: String,
    pub video_full_path: String,
    /// The model that named them.
    pub model: String,
    pub tracks: Vec<SavedTrack>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTrack {
    pub id: u32,
    /// The name shown, or `None` for Unknown.
    pub name: Option<String>,
    /// The shown name's probability (for Unknown: the best guess's).
    pub probability: f64,
    /// Best candidates first, with probabilities.
    pub candidates: Vec<(String, f64)>,
    /// Seconds from the video's start.
    pub start: f64,
    pub end: f64,
    /// The face crops, relative to the tracks folder (`track-<id>/<frame>.jpg`).
    pub faces: Vec<String>,
}

impl SavedTrack {
    /// The name a fan accepting the labeler's answer means: the one shown, else the best guess.
    pub fn guess(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.candidates.first().map(|(name, _)| name.as_str()))
    }
}

impl Format for SavedTracks {
    const KIND: &'static str = "facelabel-tracks";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "`video-labeler --save-tracks`";

    fn validate(&self, _: Option<&EmbedderId>) -> Result<(), String> {
        let mut ids: Vec<u32> = self.tracks.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("track {} is listed twice", pair[0]));
        }
        for track in &self.tracks {
            finite("a track's probability", track.probability)?;
            finite("a track's start", track.start)?;
            finite("a track's end", track.end)?;
            // Faces are files of the tracks folder, nothing else.
            if let Some(bad) = track.faces.iter().find(|f| {
                f.is_empty()
                    || f.starts_with('/')
                    || f.contains(['\\', '\0'])
                    || f.split('/')
                        .any(|part| part == ".." || part == "." || part.is_empty())
            }) {
                return Err(format!(
                    "track {}'s face {bad:?} is not a file in the tracks folder",
                    track.id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(faces: &[&str]) -> TracksFile {
        Stamped::new(
            "test",
            None,
            SavedTracks {
                video: "v.mp4".into(),
                video_full_path: "/v.mp4".into(),
                model: "model.msgpack".into(),
                tracks: vec![SavedTrack {
                    id: 3,
                    name: None,
                    probability: 0.4,
                    candidates: vec![("Momo".into(), 0.4)],
                    start: 1.0,
                    end: 2.0,
                    faces: faces.iter().map(|f| f.to_string()).collect(),
                }],
            },
        )
    }

    #[test]
    fn faces_stay_inside_the_tracks_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRACKS_FILE);
        saved(&["track-3/12.jpg"]).write(&path).unwrap();
        let read = TracksFile::read(&path).unwrap();
        assert_eq!(read.body.tracks[0].guess(), Some("Momo"));
        for bad in [
            "../x.jpg",
            "/etc/passwd",
            "track-3/../../x.jpg",
            "",
            "a\\b.jpg",
        ] {
            saved(&[bad]).write(&path).unwrap();
            let err = TracksFile::read(&path).unwrap_err().to_string();
            assert!(
                err.contains("not a file in the tracks folder"),
                "{bad}: {err}"
            );
        }
    }
}
