//! The small-face classifier: the same people, learned from the same photos each also seen as a
//! 24- and a 40-px face shows it (the encoder's small views), for the small faces of group shots.
//!
//! Why a second classifier rather than small views in the one model: trained into the main model,
//! small views teach it that a blurred, featureless face may be a member, and it then names
//! close-ups of people it was never taught (measured with five of nine members taught: the
//! untaught Mina's close-up, 148 px, named as a taught member in 4 of 9 models). A classifier used
//! only below a face height keeps the main one's refusal of strangers where faces show enough to
//! refuse them, and names the small faces the main one cannot see.

use anyhow::{Context, Result};
use facefile::Embedding;
use svm_fit::{Dataset, FittedModel, Sample, TrainConfig};

use crate::input::Photo;

/// Faces shorter than this are named by the small-face classifier by default. The small views are
/// 24 and 40 px tall; by 64 px a face shows clearly more than they do (the eyes, nose and mouth
/// take several pixels each), and the TWICE dev clips' close-ups are all 87 px and taller.
pub const DEFAULT_SMALL_FACE_HEIGHT: f32 = 64.0;

/// The small-face classifier and the rows it learned from, when the photos have small views and
/// `below_height` is above 0; `None` otherwise.
pub fn fit(
    photos: &[Photo],
    embedder: facefile::EmbedderKind,
    config: &TrainConfig,
    below_height: f32,
) -> Result<Option<(FittedModel, Dataset)>> {
    if below_height <= 0.0
        || !photos
            .iter()
            .any(|p| !p.stranger && !p.small_views.is_empty())
    {
        return Ok(None);
    }
    let views: Vec<Vec<Embedding>> = photos
        .iter()
        .map(|p| {
            p.extra_views
                .iter()
                .chain(&p.small_views)
                .cloned()
                .collect()
        })
        .collect();
    let dataset = Dataset::new(
        photos.iter().zip(&views).map(|(p, views)| Sample {
            name: &p.name,
            stranger: p.stranger,
            embedding: &p.embedding,
            mirror: p.mirror.as_ref(),
            extra_views: views,
        }),
        embedder,
    );
    let fitted =
        svm_fit::fit_model(&dataset, config).context("cannot train the small-face classifier")?;
    Ok(Some((fitted, dataset)))
}
