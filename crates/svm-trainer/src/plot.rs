//! `--plot confusion.png`: the confusion matrix as a picture a fan can read — who gets taken for
//! whom, row by row, with counts in the cells and the diagonal in green.

use std::path::Path;

use anyhow::{Context, Result};
use cli::chart::{self, drawing_error};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::Report;

pub fn confusion_png(report: &Report, path: &Path) -> Result<()> {
    let cv = report
        .cross_validation
        .as_ref()
        .context("no confusion matrix to plot: some person has a single photo, so nothing was cross-validated")?;
    chart::register_font(report.classes.iter().map(String::as_str))?;
    let k = report.classes.len();
    let longest = report
        .classes
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4) as u32;
    let cell = (longest * 9 + 16).clamp(56, 120);
    let (left, top) = (longest * 10 + 40, 90u32);
    let (width, height) = (left + cell * k as u32 + 20, top + cell * k as u32 + 60);
    chart::draw_png(path, width, height, |root| {
        let text = chart::text;
        let centred = |size: u32| text(size).pos(Pos::new(HPos::Center, VPos::Center));
        let err = drawing_error("confusion matrix");
        root.draw(&Text::new(
            format!(
                "Who is taken for whom ({}-fold cross-validation, accuracy {:.1}%)",
                cv.folds,
                cv.accuracy * 100.0
            ),
            (10, 12),
            text(18),
        ))
        .map_err(&err)?;
        root.draw(&Text::new("predicted →", (left as i32, 40), text(14)))
            .map_err(&err)?;
        root.draw(&Text::new("true ↓", (10, top as i32 - 22), text(14)))
            .map_err(&err)?;
        for (i, name) in report.classes.iter().enumerate() {
            let y = (top + cell * i as u32 + cell / 2) as i32;
            root.draw(&Text::new(name.clone(), (10, y - 8), text(15)))
                .map_err(&err)?;
            let x = (left + cell * i as u32 + cell / 2) as i32;
            root.draw(&Text::new(name.clone(), (x, top as i32 - 20), centred(13)))
                .map_err(&err)?;
        }
        for (t, row) in cv.confusion.iter().enumerate() {
            let total: usize = row.iter().sum::<usize>().max(1);
            for (p, &count) in row.iter().enumerate() {
                let share = count as f64 / total as f64;
                let (x0, y0) = (
                    (left + cell * p as u32) as i32,
                    (top + cell * t as u32) as i32,
                );
                let colour = if t == p {
                    RGBColor(
                        255 - (150.0 * share) as u8,
                        255 - (60.0 * share) as u8,
                        255 - (150.0 * share) as u8,
                    )
                } else if count > 0 {
                    RGBColor(
                        255,
                        235 - (200.0 * share.sqrt()) as u8,
                        225 - (200.0 * share.sqrt()) as u8,
                    )
                } else {
                    RGBColor(250, 250, 250)
                };
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + cell as i32 - 2, y0 + cell as i32 - 2)],
                    colour.filled(),
                ))
                .map_err(&err)?;
                if count > 0 {
                    let centre = (x0 + cell as i32 / 2, y0 + cell as i32 / 2);
                    root.draw(&Text::new(count.to_string(), centre, centred(16)))
                        .map_err(&err)?;
                }
            }
        }
        Ok(())
    })
}
