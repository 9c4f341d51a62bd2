//! Boxes and points in image pixel coordinates.

use serde::{Deserialize, Serialize};

/// A face box in pixels, dlib's convention: `right` and `bottom` are the last column and row inside
/// the box. Boxes from dlib's detectors are clipped to the image the way face_recognition clips them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

impl BoundingBox {
    pub fn new(left: i32, top: i32, right: i32, bottom: i32) -> BoundingBox {
        BoundingBox {
            left,
            top,
            right,
            bottom,
        }
    }

    /// From face_recognition's `(top, right, bottom, left)` order.
    pub fn from_css(css: [i32; 4]) -> BoundingBox {
        BoundingBox::new(css[3], css[0], css[1], css[2])
    }

    pub fn width(&self) -> i32 {
        self.right - self.left + 1
    }

    pub fn height(&self) -> i32 {
        self.bottom - self.top + 1
    }

    pub fn area(&self) -> i64 {
        self.width().max(0) as i64 * self.height().max(0) as i64
    }

    /// The centre, in pixels.
    pub fn centre(&self) -> (f64, f64) {
        (
            (self.left + self.right) as f64 / 2.0,
            (self.top + self.bottom) as f64 / 2.0,
        )
    }

    /// Intersection over union of two boxes (0 when disjoint).
    pub fn iou(&self, other: &BoundingBox) -> f64 {
        let inter = BoundingBox::new(
            self.left.max(other.left),
            self.top.max(other.top),
            self.right.min(other.right),
            self.bottom.min(other.bottom),
        );
        if inter.right < inter.left || inter.bottom < inter.top {
            return 0.0;
        }
        let inter_area = inter.area() as f64;
        let union = (self.area() + other.area()) as f64 - inter_area;
        inter_area / union
    }

    /// Clips to an image the way face_recognition's `_trim_css_to_bounds` does (it lets
    /// `right`/`bottom` reach `width`/`height`, one past the last pixel; kept for parity).
    pub fn clip_like_face_recognition(&self, width: u32, height: u32) -> BoundingBox {
        BoundingBox::new(
            self.left.max(0),
            self.top.max(0),
            self.right.min(width as i32),
            self.bottom.min(height as i32),
        )
    }

    /// Clipped to the pixels of a `width`×`height` image.
    pub fn clip(&self, width: u32, height: u32) -> BoundingBox {
        let (w, h) = (width as i32 - 1, height as i32 - 1);
        BoundingBox::new(
            self.left.clamp(0, w.max(0)),
            self.top.clamp(0, h.max(0)),
            self.right.clamp(0, w.max(0)),
            self.bottom.clamp(0, h.max(0)),
        )
    }

    /// Maps a box found on an image shrunk `factor` times back to the full image.
    pub fn scale_up(&self, factor: u32) -> BoundingBox {
        let f = factor as i32;
        BoundingBox::new(
            self.left * f,
            self.top * f,
            self.right * f + f - 1,
            self.bottom * f + f - 1,
        )
    }

    /// Every coordinate multiplied by `scale` (rounded).
    pub fn scaled(&self, scale: f64) -> BoundingBox {
        let s = |v: i32| (v as f64 * scale).round() as i32;
        BoundingBox::new(s(self.left), s(self.top), s(self.right), s(self.bottom))
    }

    /// The box `t` of the way from `self` to `other` (linear interpolation, rounded).
    pub fn lerp(&self, other: &BoundingBox, t: f64) -> BoundingBox {
        let l = |x: i32, y: i32| (x as f64 + (y - x) as f64 * t).round() as i32;
        BoundingBox::new(
            l(self.left, other.left),
            l(self.top, other.top),
            l(self.right, other.right),
            l(self.bottom, other.bottom),
        )
    }
}

/// A landmark point in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_clip_and_lerp() {
        let a = BoundingBox::new(0, 0, 9, 9);
        let b = BoundingBox::new(5, 0, 14, 9);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-12);
        assert_eq!(a.iou(&BoundingBox::new(20, 20, 30, 30)), 0.0);
        assert_eq!(
            BoundingBox::new(-5, -2, 700, 400).clip(640, 360),
            BoundingBox::new(0, 0, 639, 359)
        );
        assert_eq!(a.lerp(&b, 0.5), BoundingBox::new(3, 0, 12, 9));
        assert_eq!(a.scaled(2.0), BoundingBox::new(0, 0, 18, 18));
    }
}
