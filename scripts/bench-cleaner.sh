#!/usr/bin/env bash
# Cleaner benchmark: files per second on a few hundred mixed files — copies of the shared example
# photos (JPEG and PNG, 240–2000 px), PNG and GIF conversions, truncated files and HTML pages —
# with and without the face checks (dry runs: nothing is changed).
#   scripts/bench-cleaner.sh [SHARED_DATA] [COPIES]
set -euo pipefail
shared=${1:-../shared/data}
copies=${2:-10}
bin=${BIN:-target/release}
examples="$shared/face_recognition/examples"
[ -d "$examples" ] || { echo "error: $examples not found (pass the shared data folder)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for copy in $(seq 1 "$copies"); do
    person="$work/data/person_$copy"
    mkdir -p "$person"
    # The cleaner moves files, so it works on copies in a temporary folder (never on ../shared).
    cp "$examples"/*.jpg "$examples"/*.png "$examples"/knn_examples/test/*.jpg "$person/"
    ffmpeg -loglevel error -y -i "$examples/obama.jpg" "$person/converted_$copy.png"
    ffmpeg -loglevel error -y -i "$examples/biden.jpg" -vf scale=320:-1 "$person/anim_$copy.gif"
    head -c 20000 "$examples/obama-720p.jpg" > "$person/truncated_$copy.jpg"
    echo "<html><body>403 Forbidden $copy</body></html>" > "$person/error_$copy.jpg"
done
files=$(find "$work/data" -type f | wc -l)
echo "cleaner benchmark: $files files in $copies folders, $(nproc) cores"
for mode in "--no-face-check" ""; do
    line=$("$bin/cleaner" -d "$work/data" --dry-run $mode | grep -E 'files in .* files/s')
    echo "  ${mode:-with face checks}: $line"
done
