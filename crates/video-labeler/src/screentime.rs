//! Screen time: seconds on screen per person, as a table, a CSV and a bar chart.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::draw::colour_of;

/// Frames in which each person was shown (by class), plus unknown faces.
#[derive(Debug, Clone)]
pub struct ScreenTime {
    pub classes: Vec<String>,
    pub frames_shown: Vec<u64>,
    pub unknown_frames: u64,
    pub total_frames: u64,
    pub fps: f64,
}

impl ScreenTime {
    pub fn new(classes: Vec<String>, fps: f64) -> ScreenTime {
        let n = classes.len();
        ScreenTime {
            classes,
            frames_shown: vec![0; n],
            unknown_frames: 0,
            total_frames: 0,
            fps,
        }
    }

    pub fn seconds(&self, class: usize) -> f64 {
        self.frames_shown[class] as f64 / self.fps
    }

    /// People by screen time, longest first (people never shown are left out).
    fn ranked(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.classes.len())
            .filter(|&c| self.frames_shown[c] > 0)
            .collect();
        order.sort_by(|&a, &b| {
            self.frames_shown[b]
                .cmp(&self.frames_shown[a])
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
        let video = self.total_frames as f64 / self.fps;
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
                100.0 * self.seconds(c) / video.max(1e-9)
            );
        }
        if self.ranked().is_empty() {
            let _ = writeln!(out, "(nobody the model knows was recognised)");
        }
        let _ = writeln!(
            out,
            "video: {:.2} s, {} frames; unknown faces in {} frames",
            video, self.total_frames, self.unknown_frames
        );
        out
    }

    pub fn csv(&self) -> String {
        let mut out = String::from("person,seconds,frames,share_of_video\n");
        let video = self.total_frames as f64 / self.fps;
        for c in self.ranked() {
            let name = self.classes[c].replace('"', "\"\"");
            let _ = writeln!(
                out,
                "\"{name}\",{:.3},{},{:.4}",
                self.seconds(c),
                self.frames_shown[c],
                self.seconds(c) / video.max(1e-9)
            );
        }
        out
    }

    /// A horizontal bar chart, one bar per person in their label colour.
    pub fn chart_png(&self, path: &Path) -> Result<()> {
        const FAMILY: &str = "facelabel-sans";
        let font = fonts::for_texts(self.classes.iter().map(String::as_str))?;
        plotters::style::register_font(FAMILY, FontStyle::Normal, font.bytes)
            .map_err(|_| anyhow::anyhow!("cannot use font {}", font.path.display()))?;
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
        let mut pixels = vec![255u8; (width * height * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
            let err = |e: DrawingAreaErrorKind<_>| anyhow::anyhow!("drawing the chart: {e:?}");
            let text = |size: u32| TextStyle::from((FAMILY, size).into_font()).color(&BLACK);
            let video = self.total_frames as f64 / self.fps;
            root.draw(&Text::new(
                format!("Screen time (video {video:.1} s)"),
                (12, 14),
                text(20),
            ))
            .map_err(err)?;
            for (row, &c) in ranked.iter().enumerate() {
                let y = (top + bar_h * row as u32) as i32;
                let length = ((self.seconds(c) / max_seconds) * 520.0).max(2.0) as i32;
                let [r, g, b] = colour_of(Some(c));
                root.draw(&Text::new(
                    self.classes[c].clone(),
                    (12, y + bar_h as i32 / 2),
                    text(16).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
                let x0 = label_w as i32;
                root.draw(&Rectangle::new(
                    [(x0, y + 4), (x0 + length, y + bar_h as i32 - 4)],
                    RGBColor(r, g, b).filled(),
                ))
                .map_err(err)?;
                root.draw(&Text::new(
                    format!("{:.1} s", self.seconds(c)),
                    (x0 + length + 8, y + bar_h as i32 / 2),
                    text(15).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
            }
            root.present().map_err(err)?;
        }
        facecore::format::write_png(path, &facecore::RgbImage::new(width, height, pixels))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_follow_frames_and_fps() {
        let mut st = ScreenTime::new(vec!["Mina".into(), "나연".into(), "Sana".into()], 30.0);
        st.frames_shown = vec![45, 90, 0];
        st.total_frames = 300;
        assert_eq!(st.seconds(1), 3.0);
        let table = st.table();
        let nayeon = table.find("나연").unwrap();
        let mina = table.find("Mina").unwrap();
        assert!(nayeon < mina, "longest first:\n{table}");
        assert!(!table.contains("Sana"), "people never shown are left out");
        assert!(
            st.csv().contains("\"나연\",3.000,90,0.3000"),
            "{}",
            st.csv()
        );
    }
}
