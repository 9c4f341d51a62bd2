//! The few dlib calls the `dlib-face-recognition` crate does not expose, written in C++ through
//! the `cpp` crate: HOG detection with an upsample count and scores (exactly as dlib's Python
//! binding, and hence face_recognition, runs it), image pyramids for the CNN detector, the aligned
//! 150×150 face chip that the embedding network sees, and OpenBLAS's thread setting.
//!
//! Everything here works on the crate's `ImageMatrix` (`dlib::matrix<rgb_pixel>`) and
//! `FaceLandmarks` (`dlib::full_object_detection`), whose layouts this file relies on: the crate is
//! pinned to one version (`=0.3.2`) in the workspace for that reason.

use dlib_face_recognition::{FaceLandmarks, ImageMatrix, Rectangle};

cpp! {{
    #include <dlib/image_processing/frontal_face_detector.h>
    #include <dlib/image_processing/full_object_detection.h>
    #include <dlib/image_transforms.h>
    #include <cstring>
    extern "C" void openblas_set_num_threads(int num_threads);
}}

cpp_class!(unsafe struct FrontalFaceDetector as "dlib::frontal_face_detector");

/// dlib's HOG + linear SVM frontal face detector. Not `Sync` (dlib keeps scratch state in it and
/// its `operator()` is not const): one per worker thread, used through `&mut self`.
pub struct HogDetector {
    inner: FrontalFaceDetector,
    _not_sync: std::marker::PhantomData<std::cell::Cell<()>>,
}

cpp_class!(unsafe struct RectDetections as "std::vector<dlib::rect_detection>");

/// A detection in the coordinates of the image passed in, before clipping to its bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredRect {
    pub rect: Rectangle,
    /// The detector's SVM score; 0 is its decision threshold, higher is more confident.
    pub score: f64,
}

impl HogDetector {
    pub fn new() -> Self {
        // SAFETY: `get_frontal_face_detector` builds a detector from data compiled into dlib; it
        // takes no input and the value is returned by copy into the Rust-owned wrapper.
        let inner = unsafe {
            cpp!([] -> FrontalFaceDetector as "dlib::frontal_face_detector" {
                return dlib::get_frontal_face_detector();
            })
        };
        HogDetector {
            inner,
            _not_sync: std::marker::PhantomData,
        }
    }

    /// Runs the detector on `image` upsampled `upsample` times (each time ×2), mapping boxes back
    /// to `image`'s coordinates, the way dlib's Python binding does for `detector(img, upsample)`.
    pub fn detect(&mut self, image: &ImageMatrix, upsample: u32) -> Vec<ScoredRect> {
        let detector = &mut self.inner;
        // SAFETY: `detector` is a live, exclusively borrowed detector (its non-const operator()
        // loads the scanner, hence `&mut`); `image` is a live matrix only read here. The vector is
        // returned by value and owned by Rust from then on.
        let dets = unsafe {
            cpp!([detector as "dlib::frontal_face_detector*",
                  image as "const dlib::matrix<dlib::rgb_pixel>*",
                  upsample as "uint32_t"] -> RectDetections as "std::vector<dlib::rect_detection>" {
                std::vector<dlib::rect_detection> dets;
                if (upsample == 0) {
                    (*detector)(*image, dets, 0.0);
                } else {
                    dlib::pyramid_down<2> pyr;
                    dlib::matrix<dlib::rgb_pixel> temp;
                    dlib::pyramid_up(*image, temp, pyr);
                    for (uint32_t level = 1; level < upsample; ++level) {
                        dlib::pyramid_up(temp);
                    }
                    (*detector)(temp, dets, 0.0);
                    for (auto& d : dets) {
                        d.rect = pyr.rect_down(d.rect, upsample);
                    }
                }
                return dets;
            })
        };
        let dets = &dets;
        // SAFETY: `dets` is a live vector owned by this function; `size` only reads it.
        let len = unsafe {
            cpp!([dets as "const std::vector<dlib::rect_detection>*"] -> usize as "size_t" {
                return dets->size();
            })
        };
        (0..len)
            .map(|index| {
                let mut rect = Rectangle::default();
                let rect_ptr = &mut rect;
                // SAFETY: `index < len`, the vector's size; `rect_ptr` points to a live Rectangle,
                // which the crate declares with dlib::rectangle's layout.
                let score = unsafe {
                    cpp!([dets as "const std::vector<dlib::rect_detection>*", index as "size_t",
                          rect_ptr as "dlib::rectangle*"] -> f64 as "double" {
                        *rect_ptr = (*dets)[index].rect;
                        return (*dets)[index].detection_confidence;
                    })
                };
                ScoredRect { rect, score }
            })
            .collect()
    }
}

impl Default for HogDetector {
    fn default() -> Self {
        Self::new()
    }
}

/// Upsamples `image` `levels` times with dlib's `pyramid_up` (×2 each), as dlib does before running
/// its CNN detector with an upsample count.
pub fn pyramid_up(image: &ImageMatrix, levels: u32) -> ImageMatrix {
    // SAFETY: `image` is a live matrix only read (copied); the result is returned by value.
    unsafe {
        cpp!([image as "const dlib::matrix<dlib::rgb_pixel>*", levels as "uint32_t"]
             -> ImageMatrix as "dlib::matrix<dlib::rgb_pixel>" {
            dlib::matrix<dlib::rgb_pixel> out = *image;
            for (uint32_t level = 0; level < levels; ++level) {
                dlib::pyramid_up(out);
            }
            return out;
        })
    }
}

/// Maps a rectangle found on an image upsampled `levels` times back to the original image.
pub fn rect_down(rect: &Rectangle, levels: u32) -> Rectangle {
    // SAFETY: `rect` points to a live Rectangle (dlib::rectangle's layout), only read.
    unsafe {
        cpp!([rect as "const dlib::rectangle*", levels as "uint32_t"] -> Rectangle as "dlib::rectangle" {
            dlib::pyramid_down<2> pyr;
            return pyr.rect_down(*rect, levels);
        })
    }
}

/// The aligned face chip (RGB, `size`×`size`, row-major) that dlib's embedding network reads for
/// these landmarks: `get_face_chip_details(shape, size, padding)` then `extract_image_chip`.
/// `None` if dlib's chip does not have the size asked for (nothing is copied then).
pub fn face_chip(
    image: &ImageMatrix,
    landmarks: &FaceLandmarks,
    size: u32,
    padding: f64,
) -> Option<Vec<u8>> {
    let capacity = size as usize * size as usize * 3;
    let mut out = vec![0u8; capacity];
    let out_ptr = out.as_mut_ptr();
    // SAFETY: `image` and `landmarks` are live dlib objects only read. The C++ side copies into
    // `out_ptr` only after checking that the chip has exactly `size`×`size` pixels, i.e. exactly
    // `capacity` bytes, the length of `out`.
    let copied = unsafe {
        cpp!([image as "const dlib::matrix<dlib::rgb_pixel>*",
              landmarks as "const dlib::full_object_detection*",
              size as "uint32_t", padding as "double", out_ptr as "uint8_t*"] -> bool as "bool" {
            dlib::matrix<dlib::rgb_pixel> chip;
            dlib::extract_image_chip(*image, dlib::get_face_chip_details(*landmarks, size, padding), chip);
            if (chip.nr() != (long)size || chip.nc() != (long)size) {
                return false;
            }
            size_t offset = 0;
            for (long row = 0; row < chip.nr(); ++row) {
                for (long col = 0; col < chip.nc(); ++col) {
                    const dlib::rgb_pixel& p = chip(row, col);
                    out_ptr[offset++] = p.red;
                    out_ptr[offset++] = p.green;
                    out_ptr[offset++] = p.blue;
                }
            }
            return true;
        })
    };
    copied.then_some(out)
}

/// Limits OpenBLAS (used by dlib's network) to one thread per caller: with a worker per core, its
/// own threads would only fight the workers for the same cores.
pub fn single_threaded_blas() {
    // SAFETY: a plain setter exported by the OpenBLAS library dlib links against.
    unsafe {
        cpp!([] {
            openblas_set_num_threads(1);
        })
    }
}
