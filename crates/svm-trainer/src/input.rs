//! Reading embeddings: the encoder's `encodings.msgpack`, or CSV rows `name,f1,…,fN`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use facefile::format::encodings::{EncodingsFile, Role};
use facefile::{EmbedderKind, Embedding};

/// One photo's embeddings.
#[derive(Debug, Clone)]
pub struct Photo {
    pub name: String,
    /// Someone who is not a member (`data/.strangers/<anyone>/`, or `--strangers`).
    pub stranger: bool,
    /// Where the photo is (relative to its data folder), or the CSV line it came from.
    pub source: String,
    pub embedding: Embedding,
    pub mirror: Option<Embedding>,
    pub extra_views: Vec<Embedding>,
    /// The face as small faces show it (encoded with small views): for the small-face classifier.
    pub small_views: Vec<Embedding>,
    /// The face's height in its photo (pixels; unknown for CSV): which classifier names it.
    pub face_height: Option<f32>,
}

/// Photos with their names, and the model that produced them.
#[derive(Debug)]
pub struct Input {
    pub photos: Vec<Photo>,
    pub embedder: EmbedderKind,
    /// Whether `embedder` was recorded (msgpack) or assumed (CSV carries no model).
    pub embedder_assumed: bool,
    /// The folders the encoder read the photos from.
    pub data_folders: Vec<String>,
}

/// Reads either format; `csv_embedder` is the model assumed for CSV.
pub fn read(path: &Path, csv_embedder: EmbedderKind) -> Result<Input> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.is_empty() {
        bail!(
            "{} is empty; give the encoder's output (encodings.msgpack) or a CSV of name,f1,…,f128 rows",
            path.display()
        );
    }
    // A MessagePack map starts with 0x80–0x8f, 0xde or 0xdf; CSV starts with text.
    if matches!(bytes[0], 0x80..=0x8f | 0xde | 0xdf) {
        read_encodings(path, &bytes)
    } else {
        read_csv(path, &bytes, csv_embedder)
    }
}

fn read_encodings(path: &Path, bytes: &[u8]) -> Result<Input> {
    let file = EncodingsFile::from_bytes(path, bytes)?;
    let embedder = file
        .embedder
        .as_ref()
        .and_then(|id| id.kind())
        .with_context(|| {
            format!(
                "{} holds embeddings of a model this build does not know ({}); encode the photos \
                 again with `make encode`",
                path.display(),
                file.embedder
                    .as_ref()
                    .map(|id| id.describe())
                    .unwrap_or_else(|| "none recorded".into())
            )
        })?;
    let photos = file
        .body
        .images
        .iter()
        .filter_map(|record| {
            record.face().map(|face| Photo {
                name: record.person.clone(),
                stranger: record.role == Role::Stranger,
                source: record.path.clone(),
                embedding: face.embedding.clone(),
                mirror: face.mirror.clone(),
                extra_views: face.extra_views.clone(),
                small_views: face.small_views.clone(),
                face_height: Some(face.bbox.height() as f32),
            })
        })
        .collect();
    Ok(Input {
        photos,
        embedder,
        embedder_assumed: false,
        data_folders: file.body.data_folders.clone(),
    })
}

fn read_csv(path: &Path, bytes: &[u8], embedder: EmbedderKind) -> Result<Input> {
    let text = std::str::from_utf8(bytes)
        .with_context(|| format!("{} is neither MessagePack nor UTF-8 CSV", path.display()))?;
    // Excel's "CSV UTF-8" starts with a byte-order mark; it is not part of the first name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let dimension = embedder.dimension() as usize;
    let mut photos = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, rest) = split_name(line).with_context(|| {
            format!(
                "{}:{number}: the name's quotes are not closed (a name with a comma is written \
                 \"Na,yeon\", a quote in it as \"\")",
                path.display()
            )
        })?;
        let values: Vec<&str> = rest.split(',').map(str::trim).collect();
        // A header row (`name,f1,…`): none of its values is a number.
        if number == 1 && values.iter().all(|v| v.parse::<f32>().is_err()) {
            continue;
        }
        if name.is_empty() {
            bail!(
                "{}:{number}: the first column (the person's name) is empty",
                path.display()
            );
        }
        if let Some(bad) = name.chars().find(|c| c.is_control()) {
            bail!(
                "{}:{number}: the name {name:?} contains the control character {bad:?}",
                path.display()
            );
        }
        if values.len() != dimension {
            bail!(
                "{}:{number}: {} numbers after the name, expected {dimension} (a {embedder} embedding); is this the right file?",
                path.display(),
                values.len()
            );
        }
        let mut embedding = Vec::with_capacity(dimension);
        for (column, text) in values.iter().enumerate() {
            let value: f32 = text.parse().with_context(|| {
                format!(
                    "{}:{number}: column {}: {text:?} is not a number",
                    path.display(),
                    column + 2
                )
            })?;
            if !value.is_finite() {
                bail!(
                    "{}:{number}: column {}: {text} is not a finite number",
                    path.display(),
                    column + 2
                );
            }
            embedding.push(value);
        }
        photos.push(Photo {
            name,
            stranger: false,
            source: format!("{}:{number}", path.display()),
            embedding: Embedding::new(embedding).expect("finite values checked"),
            mirror: None,
            extra_views: Vec::new(),
            small_views: Vec::new(),
            face_height: None,
        });
    }
    if photos.is_empty() {
        bail!("{} has no embedding rows", path.display());
    }
    Ok(Input {
        photos,
        embedder,
        embedder_assumed: true,
        data_folders: Vec::new(),
    })
}

/// The first field of a CSV line (quoted or not; `""` is a quote inside quotes) and the text after
/// its comma; `None` when a quoted field is not closed.
fn split_name(line: &str) -> Option<(String, &str)> {
    let line = line.trim_start();
    let Some(quoted) = line.strip_prefix('"') else {
        let (name, rest) = line.split_once(',').unwrap_or((line, ""));
        return Some((name.trim().to_string(), rest));
    };
    let mut name = String::new();
    let mut chars = quoted.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '"' {
            name.push(c);
            continue;
        }
        if chars.peek().is_some_and(|&(_, next)| next == '"') {
            name.push('"');
            chars.next();
            continue;
        }
        let after = quoted[i + 1..].trim_start();
        let rest = after.strip_prefix(',').unwrap_or(after);
        return Some((name.trim().to_string(), rest));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_name() {
        let dir = std::env::temp_dir().join(format!("trainer-bom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("e.csv");
        let row = |name: &str| format!("{name},{}\n", vec!["0.1"; 128].join(","));
        std::fs::write(&path, format!("\u{feff}{}{}", row("Nayeon"), row("Mina"))).unwrap();
        let input = read(&path, EmbedderKind::Dlib).unwrap();
        assert_eq!(input.photos[0].name, "Nayeon");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn quoted_names_may_hold_commas_and_quotes_and_the_first_row_is_no_header_by_mistake() {
        assert_eq!(split_name("Mina,0.1"), Some(("Mina".into(), "0.1")));
        assert_eq!(
            split_name("\"Na,yeon\",0.1,0.2"),
            Some(("Na,yeon".into(), "0.1,0.2"))
        );
        assert_eq!(
            split_name("\"Jeong\"\"yeon\",1"),
            Some(("Jeong\"yeon".into(), "1"))
        );
        assert_eq!(split_name("\"Sana,0.1"), None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        let row = |name: &str| format!("{name},{}\n", vec!["0.1"; 128].join(","));
        std::fs::write(&path, format!("{}{}", row("\"Na,yeon\""), row("Mina"))).unwrap();
        let input = read(&path, EmbedderKind::Dlib).unwrap();
        let names: Vec<&str> = input.photos.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["Na,yeon", "Mina"],
            "the first row is a photo, not a header"
        );
        std::fs::write(&path, format!("name,f1,f2\n{}", row("Mina"))).unwrap();
        assert_eq!(read(&path, EmbedderKind::Dlib).unwrap().photos.len(), 1);
        std::fs::write(&path, row("\"Sana")).unwrap();
        let err = format!("{:#}", read(&path, EmbedderKind::Dlib).unwrap_err());
        assert!(
            err.contains("e.csv:1") && err.contains("quotes are not closed"),
            "{err}"
        );
    }
}
