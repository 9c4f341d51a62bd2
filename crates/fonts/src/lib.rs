//! Fonts for names drawn on charts and video frames.
//!
//! Names are verbatim folder names — `Nayeon`, `나연`, `湊崎紗夏` — so one Latin font is not enough.
//! This finds installed TrueType/OpenType fonts (`scripts/install-deps.sh` installs DejaVu and
//! Nanum), and picks, for a given text, the first font that has a glyph for every character.
//! `FACELABEL_FONT` puts a font of the user's choice first.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontArc};

/// Environment variable naming a font file to try first.
pub const FONT_ENV: &str = "FACELABEL_FONT";

/// Installed fonts tried in order: Latin first (crisp, complete), then CJK coverage.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error(
        "no usable font found (looked for {FONT_ENV} and {}); install one with \
         `apt-get install fonts-dejavu-core fonts-nanum` or set {FONT_ENV}=/path/to/font.ttf",
        CANDIDATES.join(", ")
    )]
    NoFont,
}

/// A loaded font and where it came from.
#[derive(Clone)]
pub struct LoadedFont {
    pub path: PathBuf,
    pub font: FontArc,
    /// The file's bytes, for libraries that take a font as bytes (kept alive for the process).
    pub bytes: &'static [u8],
}

impl std::fmt::Debug for LoadedFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LoadedFont({})", self.path.display())
    }
}

fn load(path: &Path) -> Option<LoadedFont> {
    let bytes: &'static [u8] = Box::leak(std::fs::read(path).ok()?.into_boxed_slice());
    let font = FontArc::try_from_slice(bytes).ok()?;
    Some(LoadedFont {
        path: path.to_path_buf(),
        font,
        bytes,
    })
}

/// Every usable font, the user's first, loaded once per process.
pub fn installed() -> &'static [LoadedFont] {
    static FONTS: OnceLock<Vec<LoadedFont>> = OnceLock::new();
    FONTS.get_or_init(|| {
        let user = std::env::var_os(FONT_ENV).map(PathBuf::from);
        user.into_iter()
            .chain(CANDIDATES.iter().map(PathBuf::from))
            .filter_map(|p| load(&p))
            .collect()
    })
}

/// Whether `font` has a glyph for every visible character of `text`.
pub fn covers(font: &FontArc, text: &str) -> bool {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| font.glyph_id(c).0 != 0)
}

/// The first installed font that can write all of `texts`; else the one that covers most characters.
pub fn for_texts<'a>(
    texts: impl IntoIterator<Item = &'a str> + Clone,
) -> Result<&'static LoadedFont, FontError> {
    let fonts = installed();
    if fonts.is_empty() {
        return Err(FontError::NoFont);
    }
    if let Some(font) = fonts
        .iter()
        .find(|f| texts.clone().into_iter().all(|t| covers(&f.font, t)))
    {
        return Ok(font);
    }
    let coverage = |f: &LoadedFont| -> usize {
        texts
            .clone()
            .into_iter()
            .flat_map(str::chars)
            .filter(|&c| f.font.glyph_id(c).0 != 0)
            .count()
    };
    Ok(fonts.iter().max_by_key(|f| coverage(f)).expect("non-empty"))
}

/// For one character, the first installed font that has it (for per-glyph fallback).
pub fn for_char(c: char) -> Option<&'static LoadedFont> {
    installed().iter().find(|f| f.font.glyph_id(c).0 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fonts_for_latin_and_hangul_names() {
        let latin = for_texts(["Nayeon", "Chaeyoung"]).unwrap();
        assert!(covers(&latin.font, "Chaeyoung"));
        let hangul = for_texts(["나연", "Mina"]).unwrap();
        assert!(
            covers(&hangul.font, "나연"),
            "{} lacks Hangul",
            hangul.path.display()
        );
    }
}
