//! The settings that decide what a photo gives: recorded in the encodings file so that a change
//! invalidates reused entries, and shared by every stage that detects or embeds.

use serde::{Deserialize, Serialize};

use crate::embedding::EmbedderKind;

/// Which face detector to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorKind {
    /// OpenCV Zoo's YuNet: fast, finds small, turned and tilted faces, and gives the five landmarks
    /// SFace aligns with. The default with `--embedder sface`.
    Yunet,
    /// dlib's HOG + linear SVM: frontal faces of at least ~80 px (~40 px upsampled once); what
    /// face_recognition uses, and the default with `--embedder dlib`.
    Hog,
    /// dlib's CNN (MMOD): finds turned and partly hidden faces too, ~10–50× slower on a CPU.
    Cnn,
}

impl DetectorKind {
    /// The detector an embedder is used with unless the user says otherwise.
    pub fn default_for(embedder: EmbedderKind) -> DetectorKind {
        match embedder {
            EmbedderKind::Sface => DetectorKind::Yunet,
            EmbedderKind::Dlib => DetectorKind::Hog,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::Yunet => "yunet",
            DetectorKind::Hog => "hog",
            DetectorKind::Cnn => "cnn",
        }
    }
}

/// How many times dlib's detectors upsample (×2 each) before detecting; each doubling halves the
/// smallest face found and roughly quadruples the time. YuNet ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Upsample {
    /// Adapt to the photo: detect on a copy of at most 1024 px (big photos are shrunk), upsampling
    /// small photos once; if nothing is found, look again at full resolution.
    #[default]
    Auto,
    /// Always this many times on the full image (1 is face_recognition's default).
    Times(u32),
}

/// The most upsampling accepted: each step quadruples the time, and 2 already finds 20 px faces.
pub const MAX_UPSAMPLE: u32 = 2;

/// Detection settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionSettings {
    pub detector: DetectorKind,
    pub upsample: Upsample,
}

/// Everything that decides the faces and vectors a photo gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisSettings {
    pub embedder: EmbedderKind,
    pub detection: DetectionSettings,
    /// Number of jittered chips averaged per dlib embedding; 0 and 1 both mean none.
    pub jitter: u32,
}

impl AnalysisSettings {
    /// The embedder's usual detector, upsampling adapted to the photo, no jitter.
    pub fn for_embedder(embedder: EmbedderKind) -> AnalysisSettings {
        AnalysisSettings {
            embedder,
            detection: DetectionSettings {
                detector: DetectorKind::default_for(embedder),
                upsample: Upsample::Auto,
            },
            jitter: 1,
        }
    }

    /// Why these settings cannot work together, if they cannot.
    pub fn conflict(&self) -> Option<String> {
        if self.embedder == EmbedderKind::Sface && self.detection.detector != DetectorKind::Yunet {
            return Some(format!(
                "--embedder sface aligns faces with YuNet's landmarks and cannot use --detector {}; \
                 leave --detector out (yunet) or use --embedder dlib",
                self.detection.detector.name()
            ));
        }
        if self.jitter > 1 && self.embedder != EmbedderKind::Dlib {
            return Some("--jitter applies to dlib's embedder only (--embedder dlib)".to_string());
        }
        if let Upsample::Times(n) = self.detection.upsample {
            if n > MAX_UPSAMPLE {
                return Some(format!(
                    "--upsample {n} is above the limit of {MAX_UPSAMPLE} (each step is 4× slower)"
                ));
            }
        }
        None
    }
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings::for_embedder(EmbedderKind::default())
    }
}

/// What to do with a photo that shows several faces when one person's photos are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MultiFacePolicy {
    /// Keep the main face only when it clearly dominates the others (size weighed by the
    /// detector's confidence); otherwise reject the photo.
    #[default]
    Dominant,
    /// Always keep the largest face.
    Largest,
    /// Reject every photo with more than one face.
    Reject,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedders_pick_their_detector_and_conflicts_are_explained() {
        let sface = AnalysisSettings::for_embedder(EmbedderKind::Sface);
        assert_eq!(sface.detection.detector, DetectorKind::Yunet);
        assert_eq!(sface.conflict(), None);
        let dlib = AnalysisSettings::for_embedder(EmbedderKind::Dlib);
        assert_eq!(dlib.detection.detector, DetectorKind::Hog);
        let mut bad = sface;
        bad.detection.detector = DetectorKind::Hog;
        assert!(bad.conflict().unwrap().contains("--detector hog"));
        let mut bad = dlib;
        bad.detection.upsample = Upsample::Times(3);
        assert!(bad.conflict().unwrap().contains("limit of 2"));
    }
}
