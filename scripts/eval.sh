#!/usr/bin/env bash
# make eval: the job the tool exists for, measured on the TWICE development set in ../shared.
# Encodes ../shared/data/twice-dev/photos, trains on them, labels every clip in clips/, and prints
# per clip: frames with a face, named correctly, named wrongly (members); frames naming a member
# (other groups' idols); faces found (group clips).
#   scripts/eval.sh SHARED_DATA [EMBEDDER]   (EMBEDDER: sface, the default, or dlib)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?give the shared data folder}/twice-dev
embedder=${2:-sface}
[ -d "$data/photos" ] || { echo "error: $data/photos not found; set SHARED=/path/to/shared" >&2; exit 1; }
bin=target/release
work=.cache/eval-$embedder
rm -rf "$work"
mkdir -p "$work/labels" "$work/videos"

"$bin/encoder" -q -d "$data/photos" -f "$work/encodings.msgpack" --embedder "$embedder"
"$bin/svm-trainer" -i "$work/encodings.msgpack" -o "$work/model.msgpack" --report "$work/report.json" \
    | sed -n '/^decision rule/,/^  coverage/p'
start=$(date +%s)
tail -n +2 "$data/clips/clips.csv" | while IFS=, read -r file member source; do
    [ -n "$file" ] || continue
    "$bin/video-labeler" -q -i "$data/clips/$file" -o "$work/videos/$file.mp4" -m "$work/model.msgpack" \
        --labels "$work/labels/$file.msgpack" --show-guesses
done
echo "labelled $(tail -n +2 "$data/clips/clips.csv" | grep -c .) clips in $(( $(date +%s) - start )) s (videos in $work/videos)"
echo
cargo run --release -q -p video-labeler --example eval-clips -- "$data/clips/clips.csv" "$work/labels"
