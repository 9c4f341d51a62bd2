//! Reading training embeddings: the encoder's `encodings.msgpack`, or CSV rows `name,f1,…,f128`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use facecore::{Embedding, EncodingsFile, ModelFingerprint, EMBEDDING_DIM};

/// Embeddings with their names, and the model that produced them.
pub struct Input {
    pub pairs: Vec<(String, Embedding)>,
    pub models: ModelFingerprint,
    /// Whether `models` is known (msgpack) or assumed (CSV carries no model hash).
    pub models_assumed: bool,
}

pub fn read(path: &Path) -> Result<Input> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.is_empty() {
        bail!("{} is empty; give the encoder's output (encodings.msgpack) or a CSV of name,f1,…,f128 rows", path.display());
    }
    // A MessagePack map starts with 0x80–0x8f, 0xde or 0xdf; CSV starts with text.
    if matches!(bytes[0], 0x80..=0x8f | 0xde | 0xdf) {
        read_encodings(path)
    } else {
        read_csv(path, &bytes)
    }
}

fn read_encodings(path: &Path) -> Result<Input> {
    let file = EncodingsFile::read(path)?;
    let current = ModelFingerprint::current();
    if file.models.embedding_model_sha256 != current.embedding_model_sha256 {
        bail!(
            "{} holds embeddings from embedding model {}, but this build uses model {}; \
             encode the photos again with `make encode`",
            path.display(),
            file.models.embedding_model_sha256,
            current.embedding_model_sha256
        );
    }
    let pairs = file
        .embeddings()
        .map(|(name, e)| (name.to_string(), *e))
        .collect();
    Ok(Input {
        pairs,
        models: file.models,
        models_assumed: false,
    })
}

fn read_csv(path: &Path, bytes: &[u8]) -> Result<Input> {
    let text = std::str::from_utf8(bytes)
        .with_context(|| format!("{} is neither MessagePack nor UTF-8 CSV", path.display()))?;
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split(',');
        let name = fields
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('"')
            .to_string();
        let values: Vec<&str> = fields.map(str::trim).collect();
        // A header row (`name,f1,…`) is skipped.
        if number == 1 && values.first().is_some_and(|v| v.parse::<f32>().is_err()) {
            continue;
        }
        if name.is_empty() {
            bail!(
                "{}:{number}: the first column (the person's name) is empty",
                path.display()
            );
        }
        if values.len() != EMBEDDING_DIM {
            bail!(
                "{}:{number}: {} numbers after the name, expected {EMBEDDING_DIM} (a dlib embedding); is this the right file?",
                path.display(),
                values.len()
            );
        }
        let mut embedding = [0f32; EMBEDDING_DIM];
        for (column, (slot, text)) in embedding.iter_mut().zip(&values).enumerate() {
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
            *slot = value;
        }
        pairs.push((name, Embedding(embedding)));
    }
    if pairs.is_empty() {
        bail!("{} has no embedding rows", path.display());
    }
    Ok(Input {
        pairs,
        models: ModelFingerprint::current(),
        models_assumed: true,
    })
}
