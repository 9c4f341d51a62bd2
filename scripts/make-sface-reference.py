#!/usr/bin/env python3
"""Writes crates/facecore/tests/fixtures/opencv5_sface_reference.json: YuNet boxes, landmarks and
scores, and SFace features, computed by OpenCV 5's own FaceDetectorYN and FaceRecognizerSF (PyPI's
opencv-python-headless) on the registry test photos (face_recognition 1.3.0's test_images), with
the procedure facecore uses: no EXIF rotation, the photo shrunk with INTER_AREA to at most 1024 px
on its long side for detection, score threshold 0.7, NMS 0.3, alignment and features on the full
photo, features scaled to unit length.

  python3 -m venv /tmp/v && /tmp/v/bin/pip install opencv-python-headless numpy
  make models fixtures && /tmp/v/bin/python scripts/make-sface-reference.py
"""
import json, os, sys
import cv2
import numpy as np

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
models = os.environ.get("FACE_MODELS_DIR", os.path.join(root, "models"))
photos = os.path.join(os.environ.get("FACE_FIXTURES_DIR", os.path.join(root, ".cache/fixtures")),
                      "face_recognition/test_images")
detector = cv2.FaceDetectorYN.create(os.path.join(models, "face_detection_yunet_2023mar.onnx"), "",
                                     (320, 320), 0.7, 0.3, 5000)
recogniser = cv2.FaceRecognizerSF.create(os.path.join(models, "face_recognition_sface_2021dec.onnx"), "")
out = {"opencv": cv2.__version__, "images": {}}
for name in sorted(os.listdir(photos)):
    if not name.endswith((".jpg", ".png")):
        continue
    image = cv2.imread(os.path.join(photos, name), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    h, w = image.shape[:2]
    scale = max(h, w) / 1024 if max(h, w) > 1024 else 1.0
    small = image if scale == 1.0 else cv2.resize(image, (round(w / scale), round(h / scale)),
                                                  interpolation=cv2.INTER_AREA)
    detector.setInputSize((small.shape[1], small.shape[0]))
    _, found = detector.detect(small)
    faces = []
    for row in (found if found is not None else []):
        row = row.copy()
        row[:14] *= scale
        feature = recogniser.feature(recogniser.alignCrop(image, row)).flatten()
        feature = feature / np.linalg.norm(feature)
        faces.append({"rect": [float(v) for v in row[:4]],
                      "landmarks": [float(v) for v in row[4:14]],
                      "score": float(row[14]),
                      "feature": [float(v) for v in feature]})
    out["images"][name] = {"width": w, "height": h, "faces": faces}
path = os.path.join(root, "crates/facecore/tests/fixtures/opencv5_sface_reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print(path, sum(len(v["faces"]) for v in out["images"].values()), "faces")
