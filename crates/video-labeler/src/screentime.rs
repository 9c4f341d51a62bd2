//! Screen time: seconds on screen per person (from the video's own frame times, so variable frame
//! rates count right), as a table, a CSV and a bar chart.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use cli::chart::{self, drawing_error};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::draw::{on_white, Colours};

/// Time each person was shown (by class), plus frames with unknown faces.
#[derive(Debug, Clone)]
pub struct ScreenTime {
    pub classes: Vec<String>,
    pub seconds_shown: Vec<f64>,
    pub frames_shown: Vec<u64>,
    pub unknown_frames: u64,
    pub total_frames: u64,
    pub video_seconds: f64,
}

impl ScreenTime {
    pub fn new(classes: Vec<String>) -> ScreenTime {
        let n = classes.len();
        ScreenTime {
            classes,
            seconds_shown: vec![0.0; n],
            frames_shown: vec![0; n],
            unknown_frames: 0,
            total_frames: 0,
            video_seconds: 0.0,
        }
    }

    /// Counts one frame lasting `duration` seconds in which `shown` people (each once) and maybe
    /// unknown faces appear.
    pub fn add_frame(&mut self, duration: f64, shown: &[usize], unknown: bool) {
        for &class in shown {
            self.seconds_shown[class] += duration;
            self.frames_shown[class] += 1;
        }
        self.unknown_frames += unknown as u64;
        self.total_frames += 1;
        self.video_seconds += duration;
    }

    pub fn seconds(&self, class: usize) -> f64 {
        self.seconds_shown[class]
    }

    /// People by screen time, longest first (people never shown are left out).
    pub fn ranked(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.classes.len())
            .filter(|&c| self.frames_shown[c] > 0)
            .collect();
        order.sort_by(|&a, &b| {
            self.seconds_shown[b]
                .total_cmp(&self.seconds_shown[a])
                .then(a.cmp(&b))
        });
        order
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let width = self
            .classes
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(6)
            .max(7);
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>7}  {:>8}",
            "person", "seconds", "frames", "of video"
        );
        for c in self.ranked() {
            let name = &self.classes[c];
            let pad = width - name.chars().count();
            let _ = writeln!(
                out,
                "{name}{}  {:>9.2}  {:>7}  {:>7.1}%",
                " ".repeat(pad),
                self.seconds(c),
                self.frames_shown[c],
                100.0 * self.seconds(c) / self.video_seconds.max(1e-9)
            );
        }
        if self.ranked().is_empty() {
            let _ = writeln!(out, "(nobody the model knows was recognised)");
        }
        let _ = writeln!(
            out,
            "video: {:.2} s, {} frames; unknown faces in {} frames",
            self.video_seconds, self.total_frames, self.unknown_frames
        );
        out
    }

    pub fn csv(&self) -> String {
        let mut out = String::from("person,seconds,frames,share_of_video\n");
        for c in self.ranked() {
            let _ = writeln!(
                out,
                "{},{:.3},{},{:.4}",
                facefile::csv::text(&self.classes[c]),
                self.seconds(c),
                self.frames_shown[c],
                self.seconds(c) / self.video_seconds.max(1e-9)
            );
        }
        out
    }

    /// A horizontal bar chart, one bar per person in their label colour.
    pub fn chart_png(&self, path: &Path, colours: &Colours) -> Result<()> {
        chart::register_font(self.classes.iter().map(String::as_str))?;
        let ranked = self.ranked();
        let longest = self
            .classes
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(6) as u32;
        let (label_w, bar_h, top) = (longest * 11 + 30, 36u32, 60u32);
        let (width, height) = (label_w + 620, top + bar_h * ranked.len().max(1) as u32 + 30);
        let max_seconds = ranked
            .iter()
            .map(|&c| self.seconds(c))
            .fold(0.0, f64::max)
            .max(1e-9);
        chart::draw_png(path, width, height, |root| {
            let err = drawing_error("screen-time chart");
            let text = chart::text;
            root.draw(&Text::new(
                format!("Screen time (video {:.1} s)", self.video_seconds),
                (12, 14),
                text(20),
            ))
            .map_err(&err)?;
            for (row, &c) in ranked.iter().enumerate() {
                let y = (top + bar_h * row as u32) as i32;
                let length = ((self.seconds(c) / max_seconds) * 520.0).max(2.0) as i32;
                let [r, g, b] = on_white(colours.of(Some(c)));
                root.draw(&Text::new(
                    self.classes[c].clone(),
                    (12, y + bar_h as i32 / 2),
                    text(16).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(&err)?;
                let x0 = label_w as i32;
                root.draw(&Rectangle::new(
                    [(x0, y + 4), (x0 + length, y + bar_h as i32 - 4)],
                    RGBColor(r, g, b).filled(),
                ))
                .map_err(&err)?;
                root.draw(&Text::new(
                    format!("{:.1} s", self.seconds(c)),
                    (x0 + length + 8, y + bar_h as i32 / 2),
                    text(15).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(&err)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_follow_frame_durations() {
        let mut st = ScreenTime::new(vec!["Mina".into(), "나연".into(), "Sana".into()]);
        for frame in 0..300 {
            let shown: Vec<usize> = match frame {
                0..=44 => vec![0, 1],
                45..=89 => vec![1],
                _ => vec![],
            };
            st.add_frame(1.0 / 30.0, &shown, frame >= 290);
        }
        assert!((st.seconds(1) - 3.0).abs() < 1e-9);
        let table = st.table();
        let nayeon = table.find("나연").unwrap();
        let mina = table.find("Mina").unwrap();
        assert!(nayeon < mina, "longest first:\n{table}");
        assert!(!table.contains("Sana"), "people never shown are left out");
        assert!(table.contains("unknown faces in 10 frames"), "{table}");
        assert!(
            st.csv().contains("\"나연\",3.000,90,0.3000"),
            "{}",
            st.csv()
        );
        // A slow frame counts for its real duration.
        st.add_frame(2.0, &[2], false);
        assert!((st.seconds(2) - 2.0).abs() < 1e-9);
        // A folder named like a formula is shown as text by spreadsheets.
        let mut formula = ScreenTime::new(vec!["=2+5".into()]);
        formula.add_frame(1.0, &[0], false);
        assert!(
            formula.csv().contains("\n\"'=2+5\",1.000"),
            "{}",
            formula.csv()
        );
    }
}
