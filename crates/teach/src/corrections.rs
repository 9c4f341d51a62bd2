//! What the fan says: `14=Jihyo`, `3,5-7=Momo`, `11=stranger`, `--accept 2,9`; checked against
//! the saved tracks before anything is copied.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use anyhow::{bail, Result};
use facefile::format::tracks::{SavedTrack, SavedTracks};

/// The word that means "nobody the model should name".
pub const STRANGER: &str = "stranger";

/// Track numbers: `14`, `3,5-7`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackList(pub Vec<u32>);

impl FromStr for TrackList {
    type Err = String;

    fn from_str(text: &str) -> Result<TrackList, String> {
        let mut ids = Vec::new();
        for part in text.split(',').map(str::trim) {
            let number = |s: &str| {
                s.trim().parse::<u32>().map_err(|_| {
                    format!("{s:?} is not a track number (the numbers the track list shows)")
                })
            };
            match part.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (number(from)?, number(to)?);
                    if from > to || to - from > 10_000 {
                        return Err(format!("{part}: a range goes from a smaller number up"));
                    }
                    ids.extend(from..=to);
                }
                None => ids.push(number(part)?),
            }
        }
        Ok(TrackList(ids))
    }
}

/// `TRACKS=PERSON`.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub tracks: TrackList,
    /// `None`: a stranger.
    pub person: Option<String>,
}

impl FromStr for Correction {
    type Err = String;

    fn from_str(text: &str) -> Result<Correction, String> {
        let Some((tracks, person)) = text.split_once('=') else {
            return Err(format!(
                "{text:?}: say which tracks are whom as TRACKS=PERSON, e.g. 14=Jihyo or 3,5-7=Momo"
            ));
        };
        let person = person.trim();
        if person.is_empty() {
            return Err(format!("{text:?}: the person's name is missing after ="));
        }
        Ok(Correction {
            tracks: tracks.parse()?,
            person: (!person.eq_ignore_ascii_case(STRANGER)).then(|| person.to_string()),
        })
    }
}

/// One track to copy, and to whom (`None`: the strangers).
#[derive(Debug)]
pub struct Teaching<'a> {
    pub track: &'a SavedTrack,
    pub person: Option<String>,
}

/// The corrections and acceptances as tracks to copy, in track order; an unknown track, a track
/// given two different people, or an accepted track with no name to accept is an error.
pub fn resolve<'a>(
    corrections: &[Correction],
    accept: Option<&TrackList>,
    saved: &'a SavedTracks,
) -> Result<Vec<Teaching<'a>>> {
    let find =
        |id: u32| -> Result<&'a SavedTrack> {
            saved.tracks.iter().find(|t| t.id == id).ok_or_else(|| {
                let ids: Vec<String> = saved.tracks.iter().map(|t| t.id.to_string()).collect();
                anyhow::anyhow!(
                "there is no track {id} in {}'s saved tracks (they are: {}); run teach without \
                 corrections to list them",
                saved.video,
                if ids.is_empty() { "none".into() } else { ids.join(", ") }
            )
            })
        };
    let mut chosen: BTreeMap<u32, (&'a SavedTrack, Option<String>)> = BTreeMap::new();
    let mut add = |track: &'a SavedTrack, person: Option<String>| -> Result<()> {
        if let Some((_, earlier)) = chosen.get(&track.id) {
            if *earlier != person {
                bail!(
                    "track {} is given as both {} and {}; say one",
                    track.id,
                    earlier.as_deref().unwrap_or(STRANGER),
                    person.as_deref().unwrap_or(STRANGER)
                );
            }
        }
        chosen.insert(track.id, (track, person));
        Ok(())
    };
    for correction in corrections {
        for &id in &correction.tracks.0 {
            add(find(id)?, correction.person.clone())?;
        }
    }
    for &id in accept.map(|a| a.0.as_slice()).unwrap_or_default() {
        let track = find(id)?;
        let Some(guess) = track.guess() else {
            bail!(
                "track {id} was shown as Unknown with no guess, so there is nothing to accept; say \
                 who it is ({id}=PERSON)"
            );
        };
        add(track, Some(guess.to_string()))?;
    }
    Ok(chosen
        .into_values()
        .map(|(track, person)| Teaching { track, person })
        .collect())
}

/// The tracks as a table: number, time, what was shown, the best guesses, the faces kept.
pub fn table(saved: &SavedTracks) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "tracks of {}:", saved.video);
    let _ = writeln!(
        out,
        "{:>6}  {:>15}  {:<24}  {:<36}  faces",
        "track", "on screen", "shown as", "best guesses"
    );
    for track in &saved.tracks {
        let shown = match &track.name {
            Some(name) => format!("{name} {:.0}%", track.probability * 100.0),
            None => "Unknown".to_string(),
        };
        let guesses: Vec<String> = track
            .candidates
            .iter()
            .take(3)
            .map(|(name, p)| format!("{name} {:.0}%", p * 100.0))
            .collect();
        let _ = writeln!(
            out,
            "{:>6}  {:>15}  {:<24}  {:<36}  {}",
            track.id,
            format!("{:.1}–{:.1} s", track.start, track.end),
            shown,
            guesses.join(", "),
            track.faces.len()
        );
    }
    let _ = writeln!(
        out,
        "say who a track is with TRACKS=PERSON (14=Jihyo, 3,5-7=Momo, 11=stranger) or --accept \
         TRACKS for the names shown or guessed"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(id: u32, name: Option<&str>, guess: Option<&str>) -> SavedTrack {
        SavedTrack {
            id,
            name: name.map(String::from),
            probability: 0.5,
            candidates: guess
                .map(|g| vec![(g.to_string(), 0.5)])
                .unwrap_or_default(),
            start: 0.0,
            end: 1.0,
            faces: vec![format!("track-{id:04}/000001.jpg")],
        }
    }

    fn saved() -> SavedTracks {
        SavedTracks {
            video: "v.mp4".into(),
            video_full_path: "/v.mp4".into(),
            model: "m".into(),
            tracks: vec![
                track(3, Some("Momo"), Some("Momo")),
                track(5, None, Some("Jihyo")),
                track(6, None, None),
                track(7, None, Some("Mina")),
            ],
        }
    }

    #[test]
    fn corrections_read_as_a_fan_writes_them() {
        let c: Correction = "3,5-7=Momo".parse().unwrap();
        assert_eq!(c.tracks.0, vec![3, 5, 6, 7]);
        assert_eq!(c.person.as_deref(), Some("Momo"));
        assert_eq!("11=Stranger".parse::<Correction>().unwrap().person, None);
        for bad in ["14", "14=", "x=Momo", "7-3=Momo", "1,,2=Momo"] {
            assert!(bad.parse::<Correction>().is_err(), "{bad}");
        }
    }

    #[test]
    fn tracks_are_checked_before_anything_is_copied() {
        let saved = saved();
        let accept: TrackList = "3,5".parse().unwrap();
        let taught = resolve(&["7=Sana".parse().unwrap()], Some(&accept), &saved).unwrap();
        let pairs: Vec<(u32, Option<&str>)> = taught
            .iter()
            .map(|t| (t.track.id, t.person.as_deref()))
            .collect();
        assert_eq!(
            pairs,
            vec![(3, Some("Momo")), (5, Some("Jihyo")), (7, Some("Sana"))]
        );
        let err = resolve(&["9=Momo".parse().unwrap()], None, &saved).unwrap_err();
        assert!(err.to_string().contains("they are: 3, 5, 6, 7"), "{err}");
        let err = resolve(&[], Some(&"6".parse().unwrap()), &saved).unwrap_err();
        assert!(err.to_string().contains("nothing to accept"), "{err}");
        let both = ["5=Momo".parse().unwrap(), "5=stranger".parse().unwrap()];
        let err = resolve(&both, None, &saved).unwrap_err();
        assert!(err.to_string().contains("both Momo and stranger"), "{err}");
        // The same thing said twice is fine.
        let twice = ["5=Jihyo".parse().unwrap()];
        assert_eq!(
            resolve(&twice, Some(&"5".parse().unwrap()), &saved)
                .unwrap()
                .len(),
            1
        );
    }
}
