//! YuNet (OpenCV Zoo, MIT licence), the 2023mar face detector, run through OpenCV's `dnn` module.
//!
//! Debian 12's OpenCV 4.6 ships a `FaceDetectorYN` that cannot load the 2023mar model (its outputs
//! changed), so the network runs through `dnn::readNetFromONNX` and its twelve raw outputs are decoded
//! here exactly as OpenCV 4.8+'s `FaceDetectorYN::postProcess` does: the input is padded to a multiple
//! of 32, every cell of the stride-8/16/32 grids predicts a box, five landmarks and two scores, the
//! score is √(cls·obj), and overlapping boxes are suppressed (NMS at IoU 0.3).

use opencv::core::{self, Mat, Scalar, Size, Vector};
use opencv::dnn;
use opencv::prelude::*;

/// The grids' strides, in the order of the model's outputs.
const STRIDES: [i32; 3] = [8, 16, 32];
/// Output names: scores (`cls`, `obj`), boxes and landmarks, each at the three strides.
const OUTPUTS: [&str; 12] = [
    "cls_8", "cls_16", "cls_32", "obj_8", "obj_16", "obj_32", "bbox_8", "bbox_16", "bbox_32",
    "kps_8", "kps_16", "kps_32",
];
/// OpenCV's `FaceDetectorYN` default: boxes overlapping more than this are one face.
pub const NMS_IOU: f32 = 0.3;

/// A face as YuNet reports it, in the pixels of the image it was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawFace {
    /// Left, top, width, height.
    pub rect: [f32; 4],
    /// Right eye, left eye, nose tip, right and left mouth corners (the subject's right and left).
    pub landmarks: [[f32; 2]; 5],
    /// √(classification · objectness), 0–1.
    pub score: f32,
}

impl RawFace {
    /// The 15 numbers of one row of OpenCV's `FaceDetectorYN` output, which `FaceRecognizerSF`'s
    /// `alignCrop` reads.
    pub fn opencv_row(&self) -> [f32; 15] {
        let mut row = [0f32; 15];
        row[..4].copy_from_slice(&self.rect);
        for (i, [x, y]) in self.landmarks.iter().enumerate() {
            row[4 + 2 * i] = *x;
            row[5 + 2 * i] = *y;
        }
        row[14] = self.score;
        row
    }

    /// The same face in an image `factor` times larger.
    pub fn scaled(&self, factor: f32) -> RawFace {
        RawFace {
            rect: self.rect.map(|v| v * factor),
            landmarks: self.landmarks.map(|[x, y]| [x * factor, y * factor]),
            score: self.score,
        }
    }
}

/// The loaded network. Not shareable between threads (OpenCV keeps scratch buffers in it).
pub struct YuNet {
    net: dnn::Net,
    names: Vector<String>,
}

impl YuNet {
    pub fn load(onnx: &std::path::Path) -> opencv::Result<YuNet> {
        let mut net = dnn::read_net_from_onnx(onnx)?;
        net.set_preferable_backend(dnn::DNN_BACKEND_OPENCV)?;
        net.set_preferable_target(dnn::DNN_TARGET_CPU)?;
        Ok(YuNet {
            net,
            names: OUTPUTS.iter().copied().collect(),
        })
    }

    /// Faces scoring at least `min_score` in a BGR 8-bit image, best first.
    pub fn detect(&mut self, bgr: &Mat, min_score: f32) -> opencv::Result<Vec<RawFace>> {
        let (width, height) = (bgr.cols(), bgr.rows());
        if width < 1 || height < 1 {
            return Ok(Vec::new());
        }
        let padded_width = (width + 31) / 32 * 32;
        let padded_height = (height + 31) / 32 * 32;
        let mut padded = Mat::default();
        core::copy_make_border(
            bgr,
            &mut padded,
            0,
            padded_height - height,
            0,
            padded_width - width,
            core::BORDER_CONSTANT,
            Scalar::all(0.0),
        )?;
        let blob = dnn::blob_from_image(
            &padded,
            1.0,
            Size::default(),
            Scalar::default(),
            false,
            false,
            core::CV_32F,
        )?;
        self.net.set_input(&blob, "", 1.0, Scalar::default())?;
        let mut outputs: Vector<Mat> = Vector::new();
        self.net.forward(&mut outputs, &self.names)?;
        let mut faces = Vec::new();
        for (level, &stride) in STRIDES.iter().enumerate() {
            let cols = padded_width / stride;
            let rows = padded_height / stride;
            let cells = (cols * rows) as usize;
            let cls = outputs.get(level)?;
            let obj = outputs.get(level + 3)?;
            let bbox = outputs.get(level + 6)?;
            let kps = outputs.get(level + 9)?;
            let (cls, obj, bbox, kps) = (
                cls.data_typed::<f32>()?,
                obj.data_typed::<f32>()?,
                bbox.data_typed::<f32>()?,
                kps.data_typed::<f32>()?,
            );
            if cls.len() < cells
                || obj.len() < cells
                || bbox.len() < cells * 4
                || kps.len() < cells * 10
            {
                return Err(opencv::Error::new(
                    core::StsUnmatchedSizes,
                    "YuNet's outputs do not match its input size (is this the 2023mar model?)",
                ));
            }
            let stride = stride as f32;
            for row in 0..rows {
                for col in 0..cols {
                    let i = (row * cols + col) as usize;
                    let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
                    if score < min_score {
                        continue;
                    }
                    let (c, r) = (col as f32, row as f32);
                    let cx = (c + bbox[i * 4]) * stride;
                    let cy = (r + bbox[i * 4 + 1]) * stride;
                    let w = bbox[i * 4 + 2].exp() * stride;
                    let h = bbox[i * 4 + 3].exp() * stride;
                    let mut landmarks = [[0f32; 2]; 5];
                    for (n, point) in landmarks.iter_mut().enumerate() {
                        *point = [
                            (kps[i * 10 + 2 * n] + c) * stride,
                            (kps[i * 10 + 2 * n + 1] + r) * stride,
                        ];
                    }
                    faces.push(RawFace {
                        rect: [cx - w / 2.0, cy - h / 2.0, w, h],
                        landmarks,
                        score,
                    });
                }
            }
        }
        Ok(non_maximum_suppression(faces, NMS_IOU))
    }
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let left = a[0].max(b[0]);
    let top = a[1].max(b[1]);
    let right = (a[0] + a[2]).min(b[0] + b[2]);
    let bottom = (a[1] + a[3]).min(b[1] + b[3]);
    let inter = (right - left).max(0.0) * (bottom - top).max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Greedy NMS, best score first (OpenCV's `NMSBoxes`).
pub fn non_maximum_suppression(mut faces: Vec<RawFace>, max_iou: f32) -> Vec<RawFace> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<RawFace> = Vec::new();
    for face in faces {
        if kept.iter().all(|k| iou(&k.rect, &face.rect) <= max_iou) {
            kept.push(face);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, score: f32) -> RawFace {
        RawFace {
            rect: [x, 0.0, 10.0, 10.0],
            landmarks: [[0.0; 2]; 5],
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let kept =
            non_maximum_suppression(vec![face(0.0, 0.8), face(1.0, 0.9), face(50.0, 0.7)], 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].rect[0], 50.0);
    }

    #[test]
    fn opencv_row_layout() {
        let mut f = face(3.0, 0.5);
        f.landmarks[4] = [7.0, 8.0];
        let row = f.opencv_row();
        assert_eq!(&row[..4], &[3.0, 0.0, 10.0, 10.0]);
        assert_eq!(&row[12..], &[7.0, 8.0, 0.5]);
        assert_eq!(f.scaled(2.0).rect, [6.0, 0.0, 20.0, 20.0]);
    }
}
