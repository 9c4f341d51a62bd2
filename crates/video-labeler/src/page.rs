//! `report/index.html`: what a fan opens in a browser — the video (when it sits where the page
//! expects it), a timeline with one row per person in her colour (click a stretch to jump there;
//! thin ticks mark the cuts), a grey row for unknown faces with their best guesses, each person's
//! best face from the video, and the screen-time bars. One self-contained file: inline CSS and
//! JavaScript, pictures as data URIs, no network.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use facefile::format::labels::FrameLabels;

use crate::decide::TrackDecision;
use crate::draw::{on_white, Colours};
use crate::screentime::ScreenTime;

/// Everything the page shows.
pub struct Page<'a> {
    pub title: String,
    pub classes: &'a [String],
    pub frames: &'a [FrameLabels],
    pub cuts: &'a [u64],
    pub screen: &'a ScreenTime,
    /// Decisions by track id, for the unknown row's guesses.
    pub decisions: &'a [(u32, TrackDecision)],
    /// The labelled video, relative to the page, when it can be reached from it.
    pub video: Option<String>,
    /// Each person's best face (JPEG bytes), by class.
    pub faces: Vec<Option<Vec<u8>>>,
    pub min_probability: f64,
    /// The rule's distance limit (none for a rule set on strangers).
    pub max_distance: Option<f32>,
    /// The small-face classifier's height and probability, when the model has one.
    pub small_faces: Option<(f32, f64)>,
    pub colours: &'a Colours,
}

/// Seconds with one decimal, never "-0.0".
pub fn seconds(value: f64) -> String {
    let value = if value.abs() < 0.05 { 0.0 } else { value };
    format!("{value:.1}")
}

/// A step between time-axis ticks that gives at most about ten of them.
fn tick_step(duration: f64) -> f64 {
    [
        0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|step| duration / step <= 10.0)
    .unwrap_or(7200.0)
}

/// `m:ss` from a minute on, else seconds.
fn clock(t: f64) -> String {
    if t >= 60.0 {
        format!(
            "{}:{:02}",
            (t / 60.0) as u64,
            (t % 60.0).round() as u64 % 60
        )
    } else if t.fract() == 0.0 {
        format!("{t:.0} s")
    } else {
        format!("{t:.1} s")
    }
}

/// A stretch of frames `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    pub first: u64,
    pub last: u64,
}

/// The stretches of consecutive frames where `shown` holds, merging gaps of up to `gap` frames.
pub fn stretches(
    frames: &[FrameLabels],
    gap: u64,
    shown: impl Fn(&FrameLabels) -> bool,
) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = Vec::new();
    for frame in frames.iter().filter(|f| shown(f)) {
        match out.last_mut() {
            Some(s) if frame.index <= s.last + 1 + gap => s.last = frame.index,
            _ => out.push(Stretch {
                first: frame.index,
                last: frame.index,
            }),
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn rgb(colour: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", colour[0], colour[1], colour[2])
}

/// Standard base64 (RFC 4648), for data URIs.
pub fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The path of `target` relative to the folder `from` (both made absolute first), `/`-separated.
pub fn relative_path(from: &Path, target: &Path) -> Option<String> {
    let absolute = |p: &Path| -> Option<PathBuf> {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().ok()?.join(p)
        };
        let mut clean = PathBuf::new();
        for component in p.components() {
            match component {
                Component::ParentDir => {
                    clean.pop();
                }
                Component::CurDir => {}
                other => clean.push(other),
            }
        }
        Some(clean)
    };
    let (from, target) = (absolute(from)?, absolute(target)?);
    let common = from
        .components()
        .zip(target.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = from
        .components()
        .skip(common)
        .map(|_| "..".to_string())
        .collect();
    parts.extend(
        target
            .components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Some(
        parts
            .iter()
            .map(|p| {
                p.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("/"),
    )
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .5em}.muted{color:#666;font-size:.9em}\
video{width:100%;max-height:60vh;background:#000;border-radius:6px}\
#timeline{position:relative;margin-top:.6em}\
.row{display:flex;align-items:center;height:30px;margin:3px 0}\
.name{width:130px;flex:none;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}\
.track{position:relative;flex:1;height:22px;background:#f1f1f1;border-radius:4px;overflow:hidden}\
.seg{position:absolute;top:0;height:100%;min-width:2px;cursor:pointer;opacity:.9}.seg:hover{opacity:1;outline:2px solid #222}\
.cut{position:absolute;top:0;height:100%;width:1px;background:#0003}\
.total{width:70px;flex:none;text-align:right;font-variant-numeric:tabular-nums;color:#444}\
#playhead{position:absolute;top:0;bottom:0;width:2px;background:#d00;pointer-events:none;display:none}\
.faces{display:flex;flex-wrap:wrap;gap:12px}.face{text-align:center;width:110px}\
.face img{display:block;width:102px;height:102px;object-fit:cover;border-radius:8px;border:4px solid}\
.face .none{width:102px;height:102px;border-radius:8px;border:4px dashed #ccc;color:#999;display:flex;align-items:center;justify-content:center;font-size:.8em}\
.bar{display:flex;align-items:center;margin:3px 0}.bar .fill{height:18px;border-radius:3px;margin-right:6px}\
.axis .track{background:none;overflow:visible;height:18px;border-top:1px solid #999;border-radius:0}\
.tick{position:absolute;top:0;height:5px;width:1px;background:#666}\
.tick span{position:absolute;top:6px;left:0;transform:translateX(-50%);font-size:.75em;color:#555;white-space:nowrap}";

const SCRIPT: &str = r#"
(function () {
  var video = document.getElementById('video');
  var head = document.getElementById('playhead');
  var lane = document.querySelector('.row .track');
  var duration = parseFloat(document.body.dataset.duration);
  function seek(t) {
    if (!video) return;
    video.currentTime = t;
    video.play().catch(function () {});
  }
  document.querySelectorAll('.seg').forEach(function (seg) {
    seg.addEventListener('click', function () { seek(parseFloat(seg.dataset.t)); });
  });
  if (video) {
    video.addEventListener('error', function () {
      document.getElementById('player').innerHTML =
        '<p class="muted">The labelled video (' + video.getAttribute('src') +
        ') is not where this page expects it; keep it beside the report to watch it here.</p>';
      video = null;
    });
    video.addEventListener('timeupdate', function () {
      if (!video || !lane) return;
      var box = lane.getBoundingClientRect(), outer = document.getElementById('timeline').getBoundingClientRect();
      head.style.display = 'block';
      head.style.left = (box.left - outer.left + box.width * Math.min(1, video.currentTime / duration)) + 'px';
    });
  }
  document.body.dataset.ready = '1';
})();
"#;

impl Page<'_> {
    pub fn html(&self) -> String {
        let total_frames = self.frames.len().max(1) as f64;
        let time_of = |frame: u64| {
            self.frames
                .get(frame as usize)
                .map(|f| f.time)
                .unwrap_or(0.0)
        };
        let percent = |frame: u64| 100.0 * frame as f64 / total_frames;
        let mut cuts = String::new();
        for &cut in self.cuts.iter().filter(|&&c| c > 0) {
            let _ = write!(
                cuts,
                "<div class=\"cut\" style=\"left:{:.3}%\"></div>",
                percent(cut)
            );
        }
        let mut rows = String::new();
        for (class, name) in self.classes.iter().enumerate() {
            let colour = rgb(self.colours.of(Some(class)));
            let text_colour = rgb(on_white(self.colours.of(Some(class))));
            let mut segments = String::new();
            for s in stretches(self.frames, 2, |f| {
                f.faces
                    .iter()
                    .any(|x| x.name.as_deref() == Some(name.as_str()))
            }) {
                let _ = write!(
                    segments,
                    "<div class=\"seg\" data-t=\"{:.3}\" title=\"{} {}–{} s\" style=\"left:{:.3}%;width:{:.3}%;background:{colour}\"></div>",
                    time_of(s.first),
                    escape(name),
                    seconds(time_of(s.first)),
                    seconds(time_of(s.last)),
                    percent(s.first),
                    percent(s.last + 1) - percent(s.first)
                );
            }
            let _ = write!(
                rows,
                "<div class=\"row\" data-person=\"{}\"><div class=\"name\" style=\"color:{text_colour}\">{}</div>\
                 <div class=\"track\">{cuts}{segments}</div><div class=\"total\">{} s</div></div>",
                escape(name),
                escape(name),
                seconds(self.screen.seconds(class))
            );
        }
        rows.push_str(&self.unknown_row(&cuts, &time_of, &percent));
        rows.push_str(&self.axis());
        let faces = self.faces_html();
        let bars = self.bars_html();
        let player = match &self.video {
            Some(src) => format!(
                "<div id=\"player\"><video id=\"video\" controls preload=\"metadata\" src=\"{}\"></video></div>",
                escape(src)
            ),
            None => "<div id=\"player\"><p class=\"muted\">Keep the labelled video beside this page to watch it here.</p></div>".into(),
        };
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{title}</title><style>{STYLE}</style>\
             <script>window.onerror=function(m){{document.documentElement.dataset.errors=(document.documentElement.dataset.errors||'')+m+';';}};</script>\
             </head><body data-duration=\"{duration:.3}\">\n\
             <h1>{title}</h1><p class=\"muted\">{frames} frames, {duration} s; {rule}; \
             grey stretches are faces it could not vouch for. Click a stretch to jump there.</p>\n\
             {player}\n<h2>Who is on screen when</h2><div id=\"timeline\"><div id=\"playhead\"></div>{rows}</div>\n\
             <h2>Faces</h2><div class=\"faces\">{faces}</div>\n<h2>Screen time</h2>{bars}\n\
             <script>{SCRIPT}</script></body></html>\n",
            title = escape(&self.title),
            duration = seconds(self.screen.video_seconds),
            frames = self.frames.len(),
            rule = self.rule_text(),
        )
    }

    /// The rule in words, without "at least 0 % sure".
    fn rule_text(&self) -> String {
        let rule = self.main_rule_text();
        match self.small_faces {
            Some((height, probability)) => format!(
                "{rule}; faces under {height:.0} px, by a classifier for small faces, when it is at \
                 least {:.0}% sure",
                (probability * 100.0).round()
            ),
            None => rule,
        }
    }

    fn main_rule_text(&self) -> String {
        let percent = (self.min_probability * 100.0).round();
        match (percent >= 1.0, self.max_distance.is_some()) {
            (true, true) => format!(
                "a face is named when the model is at least {percent:.0}% sure and it looks like \
                 her photos"
            ),
            (true, false) => format!(
                "a face is named when the model is at least {percent:.0}% sure (a bar set on \
                 people who are not members)"
            ),
            (false, _) => "a face is named when it looks close enough to her photos".into(),
        }
    }

    /// The time axis under the rows: a tick every few seconds, placed by frame like the rows.
    fn axis(&self) -> String {
        let total_frames = self.frames.len().max(1) as f64;
        let start = self.frames.first().map_or(0.0, |f| f.time);
        let duration = self.screen.video_seconds.max(0.0);
        let step = tick_step(duration);
        let mut ticks = String::new();
        let mut t = 0.0;
        while t <= duration + 1e-9 {
            // The first frame shown at or after t.
            let frame = self
                .frames
                .iter()
                .position(|f| f.time - start >= t - 1e-6)
                .unwrap_or(self.frames.len());
            let _ = write!(
                ticks,
                "<div class=\"tick\" style=\"left:{:.3}%\"><span>{}</span></div>",
                100.0 * frame as f64 / total_frames,
                clock(t)
            );
            t += step;
        }
        format!(
            "<div class=\"row axis\" aria-label=\"time\"><div class=\"name\"></div><div class=\"track\">{ticks}</div>\
             <div class=\"total\"></div></div>"
        )
    }

    fn unknown_row(
        &self,
        cuts: &str,
        time_of: &dyn Fn(u64) -> f64,
        percent: &dyn Fn(u64) -> f64,
    ) -> String {
        let grey = rgb(self.colours.of(None));
        let grey_text = rgb(on_white(self.colours.of(None)));
        let mut segments = String::new();
        // Time with any unknown face on screen (tracks overlap, so not their sum).
        let unknown_seconds: f64 =
            stretches(self.frames, 0, |f| f.faces.iter().any(|x| x.name.is_none()))
                .iter()
                .map(|s| self.duration_of(*s))
                .sum();
        for (id, decision) in self.decisions.iter().filter(|(_, d)| d.class.is_none()) {
            let guesses: Vec<String> = decision
                .candidates
                .iter()
                .map(|&(c, p)| format!("{}? {:.0}%", self.classes[c], p * 100.0))
                .collect();
            let spans = stretches(self.frames, 2, |f| {
                f.faces.iter().any(|x| x.track == *id && x.name.is_none())
            });
            for s in spans {
                let _ = write!(
                    segments,
                    "<div class=\"seg\" data-t=\"{:.3}\" title=\"Unknown {}–{} s: {}\" style=\"left:{:.3}%;width:{:.3}%;background:{grey}\"></div>",
                    time_of(s.first),
                    seconds(time_of(s.first)),
                    seconds(time_of(s.last)),
                    escape(&guesses.join(", ")),
                    percent(s.first),
                    percent(s.last + 1) - percent(s.first)
                );
            }
        }
        format!(
            "<div class=\"row unknown\"><div class=\"name\" style=\"color:{grey_text}\">Unknown</div>\
             <div class=\"track\">{cuts}{segments}</div><div class=\"total\">{} s</div></div>",
            seconds(unknown_seconds)
        )
    }

    /// Seconds from the start of `s.first` to the end of `s.last`.
    fn duration_of(&self, s: Stretch) -> f64 {
        let time = |i: u64| self.frames.get(i as usize).map(|f| f.time);
        let start = time(s.first).unwrap_or(0.0);
        let end = time(s.last + 1).unwrap_or_else(|| {
            // The last frame lasts as long as the average frame.
            let frames = self.frames.len().max(1) as f64;
            time(s.last).unwrap_or(0.0) + self.screen.video_seconds / frames
        });
        (end - start).max(0.0)
    }

    fn faces_html(&self) -> String {
        let mut out = String::new();
        for (class, name) in self.classes.iter().enumerate() {
            let colour = rgb(self.colours.of(Some(class)));
            let picture = match self.faces.get(class).and_then(|f| f.as_ref()) {
                Some(jpeg) => format!(
                    "<img alt=\"{}\" style=\"border-color:{colour}\" src=\"data:image/jpeg;base64,{}\">",
                    escape(name),
                    base64(jpeg)
                ),
                None => "<div class=\"none\">not on screen</div>".into(),
            };
            let _ = write!(
                out,
                "<div class=\"face\">{picture}<div>{}</div></div>",
                escape(name)
            );
        }
        out
    }

    fn bars_html(&self) -> String {
        let longest = self
            .screen
            .seconds_shown
            .iter()
            .cloned()
            .fold(0.0, f64::max)
            .max(1e-9);
        let mut out = String::new();
        for class in self.screen.ranked() {
            let _ = write!(
                out,
                "<div class=\"bar\"><div class=\"name\">{}</div><div class=\"fill\" style=\"width:{:.1}%;background:{}\"></div>{} s</div>",
                escape(&self.classes[class]),
                60.0 * self.screen.seconds(class) / longest,
                rgb(self.colours.of(Some(class))),
                seconds(self.screen.seconds(class))
            );
        }
        if out.is_empty() {
            out.push_str("<p class=\"muted\">Nobody the model knows was recognised.</p>");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use facefile::format::labels::FaceLabel;
    use facefile::BoundingBox;

    fn frame(index: u64, names: &[(u32, Option<&str>)]) -> FrameLabels {
        FrameLabels {
            index,
            time: index as f64 / 10.0,
            faces: names
                .iter()
                .map(|(track, name)| FaceLabel {
                    bbox: BoundingBox::new(0, 0, 9, 9),
                    track: *track,
                    name: name.map(str::to_string),
                    probability: 0.9,
                })
                .collect(),
        }
    }

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn relative_paths_reach_the_video() {
        assert_eq!(
            relative_path(Path::new("/w/report"), Path::new("/w/labeled.mp4")).unwrap(),
            "../labeled.mp4"
        );
        assert_eq!(
            relative_path(Path::new("/w/report"), Path::new("/w/report/나연 clip.mp4")).unwrap(),
            "%EB%82%98%EC%97%B0%20clip.mp4"
        );
    }

    #[test]
    fn stretches_merge_short_gaps() {
        let frames: Vec<FrameLabels> = (0..12)
            .map(|i| {
                let shown = matches!(i, 1..=3 | 5 | 10..=11);
                frame(i, if shown { &[(0, Some("Mina"))] } else { &[] })
            })
            .collect();
        let found = stretches(&frames, 1, |f| !f.faces.is_empty());
        assert_eq!(
            found,
            [
                Stretch { first: 1, last: 5 },
                Stretch {
                    first: 10,
                    last: 11
                }
            ]
        );
    }

    #[test]
    fn one_row_per_person_plus_unknown_and_names_are_escaped() {
        let classes = vec!["Mina".to_string(), "<Sana>".to_string()];
        let frames: Vec<FrameLabels> = (0..10)
            .map(|i| frame(i, &[(0, Some("Mina")), (1, None)]))
            .collect();
        let mut screen = ScreenTime::new(classes.clone());
        for _ in 0..10 {
            screen.add_frame(0.1, &[0], true);
        }
        let unknown = TrackDecision {
            class: None,
            probability: 0.3,
            distance: 1.0,
            candidates: vec![(1, 0.3)],
            lost_to_another: None,
            under_half: false,
            reason: Some("x".into()),
        };
        let page = Page {
            title: "clip.mp4".into(),
            classes: &classes,
            frames: &frames,
            cuts: &[0, 5],
            screen: &screen,
            decisions: &[(1, unknown)],
            video: Some("../labeled.mp4".into()),
            faces: vec![Some(vec![1, 2, 3]), None],
            min_probability: 0.5,
            max_distance: Some(1.0),
            small_faces: None,
            colours: &Colours::of_model_colours(vec![[230, 25, 75], [60, 180, 75]]),
        };
        let html = page.html();
        assert_eq!(html.matches("class=\"row\"").count(), 2);
        assert_eq!(html.matches("class=\"row unknown\"").count(), 1);
        assert!(html.contains("&lt;Sana&gt;") && !html.contains("<Sana>"));
        assert!(
            html.contains("&lt;Sana&gt;? 30%"),
            "the unknown row shows its guesses"
        );
        assert!(
            html.contains("Unknown</div><div class=\"track\">")
                && html.contains("1.0 s</div></div>"),
            "unknown time is the time with an unknown face"
        );
        assert!(html.contains("src=\"../labeled.mp4\""));
        assert!(html.contains("data:image/jpeg;base64,AQID"));
        assert!(!html.contains("http"), "no network");
        // A time axis from 0 s, and the rule in words.
        assert!(html.contains("class=\"row axis\"") && html.contains("<span>0 s</span>"));
        assert!(html.contains("at least 50% sure and it looks like her photos"));
        // A rule set on strangers with no probability bar: no "at least 0 %".
        let open = Page {
            min_probability: 0.001,
            max_distance: None,
            small_faces: Some((64.0, 0.3)),
            ..page
        };
        let html = open.html();
        assert!(!html.contains("at least 0%"), "{html}");
        assert!(html.contains("close enough to her photos"));
        assert!(
            html.contains(
                "faces under 64 px, by a classifier for small faces, when it is at least 30% sure"
            ),
            "{html}"
        );
    }

    #[test]
    fn times_are_never_negative_zero_and_ticks_are_few() {
        assert_eq!(seconds(-0.0), "0.0");
        assert_eq!(seconds(-0.04), "0.0");
        assert_eq!(seconds(12.34), "12.3");
        assert_eq!(tick_step(9.0), 1.0);
        assert_eq!(tick_step(22.0), 5.0);
        assert_eq!(tick_step(240.0), 30.0);
        assert_eq!(clock(90.0), "1:30");
        assert_eq!(clock(2.5), "2.5 s");
    }
}
