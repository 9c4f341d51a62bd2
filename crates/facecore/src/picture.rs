//! A picture as each backend wants it: RGB pixels for dlib, a BGR `Mat` for OpenCV. Photos arrive
//! as RGB (decoded by libjpeg-turbo), video frames as BGR (decoded by FFmpeg); the other form is
//! made once, on first use.

use std::cell::OnceCell;

use dlib_face_recognition::ImageMatrix;
use opencv::core::{Mat, CV_8UC3};
use opencv::imgproc;
use opencv::prelude::*;

use crate::error::AnalysisError;
use crate::image_io::RgbImage;

pub struct Picture {
    width: u32,
    height: u32,
    rgb: OnceCell<RgbImage>,
    bgr: OnceCell<Mat>,
    matrix: OnceCell<ImageMatrix>,
}

impl Picture {
    pub fn from_rgb(image: RgbImage) -> Picture {
        Picture {
            width: image.width(),
            height: image.height(),
            rgb: OnceCell::from(image),
            bgr: OnceCell::new(),
            matrix: OnceCell::new(),
        }
    }

    /// A BGR 8-bit three-channel `Mat` (what OpenCV's video decoder gives).
    pub fn from_bgr(frame: Mat) -> Result<Picture, AnalysisError> {
        if frame.typ() != CV_8UC3 {
            return Err(AnalysisError(format!(
                "expected an 8-bit 3-channel picture, got OpenCV type {}",
                frame.typ()
            )));
        }
        Ok(Picture {
            width: frame.cols() as u32,
            height: frame.rows() as u32,
            rgb: OnceCell::new(),
            bgr: OnceCell::from(frame),
            matrix: OnceCell::new(),
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn rgb(&self) -> Result<&RgbImage, AnalysisError> {
        if let Some(rgb) = self.rgb.get() {
            return Ok(rgb);
        }
        let bgr = self.bgr.get().expect("a picture has RGB or BGR pixels");
        let image = bgr_to_rgb(bgr)?;
        Ok(self.rgb.get_or_init(|| image))
    }

    pub fn bgr(&self) -> Result<&Mat, AnalysisError> {
        if let Some(bgr) = self.bgr.get() {
            return Ok(bgr);
        }
        let rgb = self.rgb.get().expect("a picture has RGB or BGR pixels");
        let mat = rgb_to_bgr(rgb)?;
        Ok(self.bgr.get_or_init(|| mat))
    }

    /// The pixels in dlib's form.
    pub fn matrix(&self) -> Result<&ImageMatrix, AnalysisError> {
        if let Some(matrix) = self.matrix.get() {
            return Ok(matrix);
        }
        let matrix = to_matrix(self.rgb()?);
        Ok(self.matrix.get_or_init(|| matrix))
    }
}

/// Copies RGB pixels into dlib's image type.
pub fn to_matrix(image: &RgbImage) -> ImageMatrix {
    // SAFETY: `pixels()` holds exactly width × height × 3 bytes (an invariant `RgbImage` keeps
    // private), which is what `ImageMatrix::new` reads; it copies them.
    unsafe {
        ImageMatrix::new(
            image.width() as usize,
            image.height() as usize,
            image.pixels().as_ptr(),
        )
    }
}

/// RGB pixels as a BGR `Mat`.
pub fn rgb_to_bgr(image: &RgbImage) -> Result<Mat, AnalysisError> {
    let flat = Mat::from_slice(image.pixels())?;
    let rgb = flat.reshape(3, image.height() as i32)?;
    let mut bgr = Mat::default();
    imgproc::cvt_color_def(&rgb, &mut bgr, imgproc::COLOR_RGB2BGR)?;
    Ok(bgr)
}

/// A BGR `Mat` as RGB pixels.
pub fn bgr_to_rgb(bgr: &Mat) -> Result<RgbImage, AnalysisError> {
    let mut rgb = Mat::default();
    imgproc::cvt_color_def(bgr, &mut rgb, imgproc::COLOR_BGR2RGB)?;
    let pixels = if rgb.is_continuous() {
        rgb.data_bytes()?.to_vec()
    } else {
        rgb.try_clone()?.data_bytes()?.to_vec()
    };
    RgbImage::try_new(rgb.cols() as u32, rgb.rows() as u32, pixels)
        .ok_or_else(|| AnalysisError("OpenCV returned a picture of the wrong size".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_and_bgr_round_trip() {
        let pixels: Vec<u8> = (0..4 * 3 * 3).map(|i| i as u8).collect();
        let picture = Picture::from_rgb(RgbImage::new(4, 3, pixels.clone()));
        let bgr = picture.bgr().unwrap();
        assert_eq!((bgr.cols(), bgr.rows()), (4, 3));
        let first = bgr.at_2d::<opencv::core::Vec3b>(0, 0).unwrap();
        assert_eq!(first.0, [2, 1, 0]);
        let back = Picture::from_bgr(bgr.clone()).unwrap();
        assert_eq!(back.rgb().unwrap().pixels(), pixels.as_slice());
    }
}
