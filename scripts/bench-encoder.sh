#!/usr/bin/env bash
# Encoder benchmark: images per second and face yield on real photos from the shared datasets
# (face_recognition's examples: 25 photos of 427–2000 px, a few with several faces), read in place
# through symbolic links in a temporary folder, repeated to amortise start-up.
#   scripts/bench-encoder.sh [SHARED_DATA] [COPIES]
set -euo pipefail
shared=${1:-../shared/data}
copies=${2:-8}
encoder=${ENCODER:-target/release/encoder}
examples="$shared/face_recognition/examples"
[ -d "$examples" ] || { echo "error: $examples not found (pass the shared data folder)" >&2; exit 1; }
[ -x "$encoder" ] || { echo "error: $encoder not built; run make build" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for copy in $(seq 1 "$copies"); do
    for person in "$examples"/knn_examples/train/*/; do
        mkdir -p "$work/data/$(basename "$person")_$copy"
        cp "$person"* "$work/data/$(basename "$person")_$copy/"
    done
    mkdir -p "$work/data/examples_$copy" "$work/data/test_$copy"
    # Copies, not links: links to one file are one photo to the encoder.
    cp "$examples"/*.jpg "$examples"/*.png "$work/data/examples_$copy/"
    cp "$examples"/knn_examples/test/* "$work/data/test_$copy/"
done
photos=$(find "$work/data" -type f | wc -l)
echo "encoder benchmark: $photos photos ($copies copies of the shared example photos), $(nproc) cores"
printf '%-38s %10s %10s %12s\n' "settings" "seconds" "images/s" "photos enc."

run() {
    local label=$1; shift
    local start end out
    start=$(date +%s.%N)
    out=$("$encoder" -d "$work/data" -f "$work/encodings.msgpack" --full "$@")
    end=$(date +%s.%N)
    local encoded
    encoded=$(grep -oE '^[0-9]+ of [0-9]+ photos encoded' <<<"$out" | awk '{print $1}')
    awk -v l="$label" -v s="$start" -v e="$end" -v n="$photos" -v enc="$encoded" \
        'BEGIN { printf "%-38s %10.2f %10.1f %12s\n", l, e - s, n / (e - s), enc "/" n }'
}

run "sface + YuNet (default)"
run "sface + YuNet, --no-small-views" --no-small-views
run "sface + YuNet, 1 thread" --threads 1
run "dlib, HOG, upsample auto" --embedder dlib
run "dlib, upsample 1 (face_recognition's)" --embedder dlib --upsample 1
