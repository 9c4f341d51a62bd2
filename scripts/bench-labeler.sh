#!/usr/bin/env bash
# Video labeler benchmark on the shared Hamilton clip (640×360, 275 frames) and a 1280×720 H.264
# version of it made with ffmpeg: frames per second, beside the ceiling (decode + encode, no face
# work); Lin-Manuel Miranda's coverage in his close-ups; peak memory on the clip and on a 6× longer
# loop of it (flat memory means no frame buffering beyond the pipeline).
#   scripts/bench-labeler.sh [SHARED_DATA]
set -euo pipefail
shared=${1:-../shared/data}
bin=${BIN:-target/release}
examples="$shared/face_recognition/examples"
clip="$examples/short_hamilton_clip.mp4"
[ -f "$clip" ] || { echo "error: $clip not found (pass the shared data folder)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for person in "$examples"/knn_examples/train/*/; do
    mkdir -p "$work/data/$(basename "$person")"
    ln -s "$person"* "$work/data/$(basename "$person")/"
done
mkdir -p "$work/data/lin_manuel_miranda"
ln -s "$examples/lin-manuel-miranda.png" "$work/data/lin_manuel_miranda/"
ln -s "$examples/alex-lacamoire.png" "$work/data/alex_lacamoire/"
"$bin/encoder" -q -d "$work/data" -f "$work/encodings.msgpack"
"$bin/svm-trainer" -q -i "$work/encodings.msgpack" -o "$work/model.msgpack"
ffmpeg -loglevel error -y -i "$clip" -vf scale=1280:720 -c:v libx264 -preset fast -an "$work/clip720.mp4"
ffmpeg -loglevel error -y -stream_loop 5 -i "$clip" -c copy -an "$work/clip6x.mp4"

fps_of() { sed -nE 's/.*\(([0-9.]+) frames\/s\).*/\1/p'; }
label() { "$bin/video-labeler" -i "$1" -o "$work/out.mp4" -m "$work/model.msgpack" "${@:2}" | fps_of; }

echo "video-labeler benchmark, $(nproc) cores (frames/s include start-up)"
printf '%-34s %10s %12s\n' "clip" "frames/s" "ceiling"
printf '%-34s %10s %12s\n' "Hamilton 640×360 (H.264 out)" "$(label "$clip")" "$(label "$clip" --passthrough)"
printf '%-34s %10s %12s\n' "Hamilton 1280×720 (H.264 out)" "$(label "$work/clip720.mp4")" "$(label "$work/clip720.mp4" --passthrough)"
printf '%-34s %10s %12s\n' "Hamilton 1280×720 (--codec mp4v)" "$(label "$work/clip720.mp4" --codec mp4v)" "$(label "$work/clip720.mp4" --passthrough --codec mp4v)"

"$bin/video-labeler" -q -i "$clip" -o "$work/out.mp4" -m "$work/model.msgpack" --labels-json "$work/labels.json"
python3 - "$work/labels.json" <<'PY'
import json, sys
frames = json.load(open(sys.argv[1]))["body"]["frames"]
him = [f["index"] for f in frames if any(x["name"] == "lin_manuel_miranda" for x in f["faces"])]
close = [i for i in him if 84 <= i <= 215]
# Elsewhere: Alex Lacamoire's close profile (24-83) and the audience (216-274); in the wide stage
# shot (0-23) the small singer is him.
elsewhere = [i for i in him if 24 <= i < 80 or i > 219]
print(f"Lin-Manuel Miranda labelled in {len(close)}/132 close-up frames ({100*len(close)/132:.1f}%), "
      f"in the stage shot in {len([i for i in him if i < 24])}/24 frames, elsewhere in {len(elsewhere)} frames")
PY
for input in "$clip" "$work/clip6x.mp4"; do
    /usr/bin/time -f "%M" -o "$work/rss" "$bin/video-labeler" -q -i "$input" -o "$work/out.mp4" -m "$work/model.msgpack"
    echo "peak memory on $(basename "$input"): $(( $(cat "$work/rss") / 1024 )) MB"
done
