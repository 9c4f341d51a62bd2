//! The flags every stage spells the same way. Each is a small struct flattened into a stage's
//! parser (`#[command(flatten)]`), as uv flattens its global arguments.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use facefile::settings::{DetectionSettings, Upsample, MAX_UPSAMPLE};
use facefile::{AnalysisSettings, DetectorKind, EmbedderKind, MultiFacePolicy};

/// `-q/--quiet`.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct QuietArg {
    /// Print only errors (no tables, no progress bar).
    #[arg(short, long)]
    pub quiet: bool,
}

/// `-j/--threads`.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct ThreadsArg {
    /// Worker threads [default: one per core; at most the machine's cores].
    #[arg(short = 'j', long = "threads", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
}

impl ThreadsArg {
    /// The number of workers: one per core unless asked, and never more than the cores (more only
    /// adds memory: each worker loads its own models). Says so when it clamps.
    pub fn resolve(&self, quiet: bool) -> usize {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        match self.threads {
            None => cores,
            Some(asked) if asked as usize > cores => {
                if !quiet {
                    eprintln!(
                        "note: --threads {asked} lowered to {cores}, the number of cores here \
                         (each worker holds its own models)"
                    );
                }
                cores
            }
            Some(asked) => asked as usize,
        }
    }
}

/// `--models-dir` (or `FACE_MODELS_DIR`).
#[derive(Args, Debug, Clone, Default)]
pub struct ModelsArg {
    /// Folder with the model files (`make models` fetches them).
    #[arg(
        long = "models-dir",
        value_name = "DIR",
        env = "FACE_MODELS_DIR",
        default_value = "models"
    )]
    pub models_dir: PathBuf,
}

/// `-d/--data-dir`.
#[derive(Args, Debug, Clone, Default)]
pub struct DataDirArg {
    /// Folder with one sub-folder of photos per person; the folder name is the person's name.
    #[arg(
        short = 'd',
        long = "data-dir",
        value_name = "DIR",
        default_value = "data"
    )]
    pub data_dir: PathBuf,
}

/// `--multi-face`: which face stands for a photo with several (the encoder and the cleaner must
/// agree on it).
#[derive(Args, Debug, Clone, Copy)]
pub struct MultiFaceArg {
    /// With several faces in a photo: dominant keeps the main face if it clearly outweighs the
    /// others (twice the area, weighed by the detector's confidence), else rejects; largest always
    /// keeps the largest; reject always rejects.
    #[arg(long = "multi-face", value_enum, value_name = "POLICY", default_value_t = MultiFaceValue::Dominant)]
    pub value: MultiFaceValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MultiFaceValue {
    Dominant,
    Largest,
    Reject,
}

impl MultiFaceArg {
    pub fn policy(&self) -> MultiFacePolicy {
        match self.value {
            MultiFaceValue::Dominant => MultiFacePolicy::Dominant,
            MultiFaceValue::Largest => MultiFacePolicy::Largest,
            MultiFaceValue::Reject => MultiFacePolicy::Reject,
        }
    }
}

/// `--embedder`, `--detector`, `--upsample`: how faces are found and turned into vectors.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct DetectionArgs {
    /// Embedding model: sface (OpenCV Zoo's SFace with YuNet detection; tells look-alike members
    /// apart) or dlib (face_recognition's model, bit-identical to it).
    #[arg(long, value_enum, value_name = "MODEL")]
    pub embedder: Option<EmbedderArg>,

    /// Face detector [default: yunet with sface, hog with dlib]. hog and cnn (dlib's; cnn finds
    /// turned faces, much slower) work with --embedder dlib only.
    #[arg(long, value_enum, value_name = "DETECTOR")]
    pub detector: Option<DetectorArg>,

    /// dlib detectors only: upsampling before detection: auto (fast on big photos, upsamples
    /// small ones or when nothing is found), or 0, 1, 2 (1 is face_recognition's default; each step
    /// finds faces half as big and takes about 4× longer).
    #[arg(long, value_name = "auto|0|1|2", value_parser = parse_upsample)]
    pub upsample: Option<Upsample>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedderArg {
    Sface,
    Dlib,
}

impl From<EmbedderArg> for EmbedderKind {
    fn from(arg: EmbedderArg) -> EmbedderKind {
        match arg {
            EmbedderArg::Sface => EmbedderKind::Sface,
            EmbedderArg::Dlib => EmbedderKind::Dlib,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectorArg {
    Yunet,
    Hog,
    Cnn,
}

impl From<DetectorArg> for DetectorKind {
    fn from(arg: DetectorArg) -> DetectorKind {
        match arg {
            DetectorArg::Yunet => DetectorKind::Yunet,
            DetectorArg::Hog => DetectorKind::Hog,
            DetectorArg::Cnn => DetectorKind::Cnn,
        }
    }
}

/// `auto`, `0`, `1` or `2`.
pub fn parse_upsample(value: &str) -> Result<Upsample, String> {
    match value {
        "auto" => Ok(Upsample::Auto),
        _ => match value.parse::<u32>() {
            Ok(times) if times <= MAX_UPSAMPLE => Ok(Upsample::Times(times)),
            _ => Err(format!(
                "expected auto, 0, 1 or 2, got {value:?} (each step is 4× slower; 2 already finds 20 px faces)"
            )),
        },
    }
}

impl DetectionArgs {
    /// The embedder asked for, else `default`.
    pub fn embedder_or(&self, default: EmbedderKind) -> EmbedderKind {
        self.embedder.map(EmbedderKind::from).unwrap_or(default)
    }

    /// The settings these flags ask for (with `default` as the embedder when none is given), or
    /// why they do not fit together.
    pub fn settings(&self, default: EmbedderKind, jitter: u32) -> anyhow::Result<AnalysisSettings> {
        let embedder = self.embedder_or(default);
        let settings = AnalysisSettings {
            embedder,
            detection: DetectionSettings {
                detector: self
                    .detector
                    .map(DetectorKind::from)
                    .unwrap_or(DetectorKind::default_for(embedder)),
                upsample: self.upsample.unwrap_or_default(),
            },
            jitter,
        };
        if let Some(conflict) = settings.conflict() {
            anyhow::bail!(conflict);
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsample_is_bounded_and_settings_default_per_embedder() {
        assert_eq!(parse_upsample("auto"), Ok(Upsample::Auto));
        assert_eq!(parse_upsample("2"), Ok(Upsample::Times(2)));
        assert!(parse_upsample("3").unwrap_err().contains("auto, 0, 1 or 2"));
        let args = DetectionArgs {
            embedder: Some(EmbedderArg::Dlib),
            ..Default::default()
        };
        let settings = args.settings(EmbedderKind::Sface, 1).unwrap();
        assert_eq!(settings.detection.detector, DetectorKind::Hog);
        let args = DetectionArgs {
            detector: Some(DetectorArg::Cnn),
            ..Default::default()
        };
        let err = args
            .settings(EmbedderKind::Sface, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--detector cnn"), "{err}");
    }

    #[test]
    fn threads_are_clamped_to_the_machine() {
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(
            ThreadsArg {
                threads: Some(1000)
            }
            .resolve(true),
            cores
        );
        assert_eq!(ThreadsArg { threads: Some(1) }.resolve(true), 1);
        assert_eq!(ThreadsArg { threads: None }.resolve(true), cores);
    }
}
