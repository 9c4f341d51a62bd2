//! A canvas for the PNG charts (confusion matrix, screen time): a white RGB buffer that plotters
//! draws on, a font that can write every name (Hangul too), and an atomic PNG write.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

/// The font family name charts draw with.
pub const FAMILY: &str = "facelabel-sans";

/// Registers a font that covers every text in `texts` as [`FAMILY`].
pub fn register_font<'a>(texts: impl IntoIterator<Item = &'a str> + Clone) -> Result<()> {
    let font = fonts::for_texts(texts)?;
    plotters::style::register_font(FAMILY, FontStyle::Normal, font.bytes)
        .map_err(|_| anyhow!("cannot use font {}", font.path.display()))
}

/// Text in the chart font.
pub fn text(size: u32) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(&BLACK)
}

/// A white `width`×`height` canvas; `draw` paints it, then it is written to `path` as PNG.
pub fn draw_png(
    path: &Path,
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<BitMapBackend, plotters::coord::Shift>) -> Result<()>,
) -> Result<()> {
    let mut pixels = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present()
            .map_err(|e| anyhow!("drawing {}: {e:?}", path.display()))?;
    }
    write_png(path, width, height, pixels)
}

/// Writes RGB pixels as a PNG file, atomically.
pub fn write_png(path: &Path, width: u32, height: u32, pixels: Vec<u8>) -> Result<()> {
    let buffer = image::RgbImage::from_raw(width, height, pixels).ok_or_else(|| {
        anyhow!(
            "a {width}×{height} picture needs {} bytes",
            width * height * 3
        )
    })?;
    let mut png = std::io::Cursor::new(Vec::new());
    buffer
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| anyhow!("encoding {} as PNG: {e}", path.display()))?;
    facefile::fs::write_atomic(path, png.get_ref())?;
    Ok(())
}

/// Turns a plotters drawing error into an error that names the chart.
pub fn drawing_error<E: std::fmt::Debug>(chart: &str) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow!("drawing the {chart}: {e:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canvas_is_written_as_png() {
        let dir = std::env::temp_dir().join(format!("chart-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.png");
        draw_png(&path, 20, 10, |root| {
            root.fill(&RED).map_err(drawing_error("test chart"))?;
            Ok(())
        })
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..4], b"\x89PNG");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
