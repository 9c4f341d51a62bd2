#!/usr/bin/env bash
# Fetches the real face photos the tests use: tests/test_images/ of PyPI's face_recognition==1.3.0
# sdist (obama, obama2, obama3, biden, two partial faces, a 32-bit PNG; MIT licence), checked by
# SHA-256, into $1, else $FACE_FIXTURES_DIR, else .cache/fixtures. A no-op when already there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pypi-sdist.sh"

dest=${1:-${FACE_FIXTURES_DIR:-.cache/fixtures}}
sdist_sha256=5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec
target="$dest/face_recognition/test_images"
if [ -f "$target/.complete" ]; then
    echo "fixtures: present in $target"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fixtures: fetching face_recognition==1.3.0 sdist from PyPI (3 MB)"
archive=$(fetch_sdist face_recognition 1.3.0 "$sdist_sha256" "$work")
tar -xzf "$archive" -C "$work" --wildcards '*/tests/test_images/*' '*/LICENSE'
mkdir -p "$dest/face_recognition"
rm -rf "$target.tmp"
cp -r "$work"/face_recognition-1.3.0/tests/test_images "$target.tmp"
cp "$work"/face_recognition-1.3.0/LICENSE "$target.tmp/LICENSE"
touch "$target.tmp/.complete"
rm -rf "$target"
mv "$target.tmp" "$target"
echo "fixtures: $(ls "$target" | wc -l) files in $target"
