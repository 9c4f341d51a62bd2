//! Embeddings: SFace (default) or dlib's ResNet, behind one [`Embedder`]. Each face gives its
//! embedding, the five landmarks it was aligned with, and on request the embedding of its grey
//! version and of the face as a small face in a group shot would show it (more views the
//! classifier learns from), and the aligned chip (to check by eye).

pub mod dlib;
pub mod sface;

use facefile::{EmbedderKind, Embedding, Landmarks5, Point};
use opencv::prelude::*;

use crate::detect::yunet::RawFace;
use crate::detect::Detection;
use crate::error::{AnalysisError, ModelError};
use crate::image_io::RgbImage;
use crate::models::{ModelDir, ModelFile};
use crate::picture::{bgr_to_rgb, to_matrix, Picture};

/// What to compute besides the embedding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Also embed the face in grey.
    pub grey_view: bool,
    /// SFace only: also embed the face as it would look [`SMALL_VIEW_HEIGHTS`] pixels tall.
    pub small_views: bool,
    /// Also embed the face mirrored (left and right swapped): a second look at the same face that
    /// the network's small asymmetries would otherwise miss.
    pub mirror_view: bool,
    /// Also return the aligned chip.
    pub chip: bool,
    /// dlib only: average this many jittered chips (1 = none).
    pub jitter: u32,
}

/// The face heights (pixels) a photo's face is also seen at when training with small views: group
/// shots and stage footage show members 20–60 px tall, and their embeddings differ from a
/// photo's. With a view of each training face at these sizes, members' and strangers' alike, the
/// classifier learns what a small member looks like. Measured with every dev photo: the dev group
/// clips went from 89 to 103 of 205 faces named (a single 32-px view: no change; 20, 32 and 48 px:
/// the same 103, but held-out strangers' photos named 6 %). Not the default: with 5 of the 9
/// members taught, an untaught member's close-up was named as a taught one in 4 of 9 models.
pub const SMALL_VIEW_HEIGHTS: [i32; 2] = [24, 40];

/// One face's vectors.
#[derive(Debug, Clone)]
pub struct Embedded {
    pub embedding: Embedding,
    pub landmarks: Landmarks5,
    pub grey: Option<Embedding>,
    pub mirror: Option<Embedding>,
    /// The face at each of [`SMALL_VIEW_HEIGHTS`], pooled with its mirror image (as the labeler
    /// scores a track's first faces), when asked for.
    pub small: Vec<Embedding>,
    pub chip: Option<RgbImage>,
}

/// A loaded embedding model. Not `Sync`: each worker thread owns one.
pub enum Embedder {
    /// Boxed: dlib's networks are large and loaded once per worker.
    Dlib(Box<dlib::DlibEncoder>),
    Sface(sface::SFace),
}

impl Embedder {
    pub fn load(models: &ModelDir, kind: EmbedderKind) -> Result<Embedder, ModelError> {
        match kind {
            EmbedderKind::Dlib => Ok(Embedder::Dlib(Box::new(dlib::DlibEncoder::load(models)?))),
            EmbedderKind::Sface => {
                let path = models.verified(ModelFile::SfaceRecogniser)?;
                let net = sface::SFace::load(&path).map_err(|e| ModelError::Load {
                    path,
                    message: e.message,
                })?;
                Ok(Embedder::Sface(net))
            }
        }
    }

    pub fn kind(&self) -> EmbedderKind {
        match self {
            Embedder::Dlib(_) => EmbedderKind::Dlib,
            Embedder::Sface(_) => EmbedderKind::Sface,
        }
    }

    /// The face at `detection` in `picture` (full resolution).
    pub fn embed(
        &mut self,
        picture: &Picture,
        detection: &Detection,
        options: EmbedOptions,
    ) -> Result<Embedded, AnalysisError> {
        match self {
            Embedder::Dlib(encoder) => {
                let matrix = picture.matrix()?;
                let landmarks = encoder.landmarks(matrix, &detection.bbox);
                let embedding = encoder.embed(matrix, &landmarks, options.jitter)?;
                let grey = if options.grey_view {
                    let grey = to_matrix(&picture.rgb()?.grey());
                    Some(encoder.embed(&grey, &landmarks, options.jitter)?)
                } else {
                    None
                };
                let mirror = if options.mirror_view {
                    Some(encoder.embed_mirrored(picture.rgb()?, &detection.bbox, options.jitter)?)
                } else {
                    None
                };
                let chip = if options.chip {
                    dlib::aligned_chip(matrix, &landmarks).and_then(|pixels| {
                        RgbImage::try_new(dlib::CHIP_SIZE, dlib::CHIP_SIZE, pixels)
                    })
                } else {
                    None
                };
                Ok(Embedded {
                    embedding,
                    landmarks: dlib::landmark_points(&landmarks),
                    grey,
                    mirror,
                    small: Vec::new(),
                    chip,
                })
            }
            Embedder::Sface(net) => {
                let landmarks = detection.landmarks.ok_or_else(|| {
                    AnalysisError(
                        "SFace aligns faces with YuNet's landmarks; this face came from another detector"
                            .into(),
                    )
                })?;
                let b = &detection.bbox;
                let raw = RawFace {
                    rect: [
                        b.left as f32,
                        b.top as f32,
                        b.width() as f32,
                        b.height() as f32,
                    ],
                    landmarks,
                    score: detection.score,
                };
                let aligned = net.align(picture.bgr()?, &raw)?;
                let mut feature = |chip: &opencv::core::Mat| {
                    Embedding::new(net.feature(chip)?)
                        .ok_or_else(|| AnalysisError("SFace returned a non-finite feature".into()))
                };
                let embedding = feature(&aligned)?;
                let grey = if options.grey_view {
                    Some(feature(&sface::SFace::grey(&aligned)?)?)
                } else {
                    None
                };
                let mirror = if options.mirror_view {
                    Some(feature(&sface::SFace::mirrored(&aligned)?)?)
                } else {
                    None
                };
                let mut small = Vec::new();
                if options.small_views {
                    for height in SMALL_VIEW_HEIGHTS {
                        let chip = sface::SFace::shrunk(&aligned, height)?;
                        let plain = feature(&chip)?;
                        let mirror = feature(&sface::SFace::mirrored(&chip)?)?;
                        small.push(
                            Embedding::weighted_mean([(&plain, 1.0), (&mirror, 1.0)], true)
                                .unwrap_or(plain),
                        );
                    }
                }
                let chip = if options.chip && !aligned.empty() {
                    Some(bgr_to_rgb(&aligned)?)
                } else {
                    None
                };
                Ok(Embedded {
                    embedding,
                    landmarks: landmarks.map(|[x, y]| Point {
                        x: x.round() as i32,
                        y: y.round() as i32,
                    }),
                    grey,
                    mirror,
                    small,
                    chip,
                })
            }
        }
    }
}
