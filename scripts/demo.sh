#!/usr/bin/env bash
# The whole pipeline on real public photos, with no network but the package registries:
# face_recognition 1.3.0's test photos (PyPI) of Barack Obama and Joe Biden, a demo video assembled
# with ffmpeg from photos held out of training (plus a tone as its sound track), then every stage
# from cleaner to audio-merger.
#   scripts/demo.sh [OUT_DIR]     (default: demo/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-demo}
bin=${BIN:-target/release}
for tool in cleaner encoder svm-trainer video-labeler audio-merger teach; do
    [ -x "$bin/$tool" ] || { echo "error: $bin/$tool is not built; run make build" >&2; exit 1; }
done
"$here/fetch-test-fixtures.sh" >/dev/null
photos="${FACE_FIXTURES_DIR:-.cache/fixtures}/face_recognition/test_images"
step() { printf '\n== %s\n' "$*"; }

rm -rf "$out"
mkdir -p "$out/data/obama" "$out/data/biden" "$out/video" "$out/report"
ff() { ffmpeg -loglevel error -nostdin -y "$@"; }

step "photos: 2 of Obama, 1 of Biden for training; obama3.jpg and a mirrored Biden held out for the video"
cp "$photos/obama.jpg" "$photos/obama2.jpg" "$out/data/obama/"
ff -i "$photos/biden.jpg" -vf "crop=iw*0.85:ih*0.85:0:0" "$out/data/biden/biden.jpg"
# What scrapers leave behind, for the cleaner to deal with:
ff -i "$photos/obama2.jpg" "$out/data/obama/obama2_copy.png"          # a PNG copy: converted, flagged as near duplicate
printf '<html><body>404 Not Found</body></html>' > "$out/data/obama/broken.jpg"   # an error page: quarantined

step "demo video: 3 s of each held-out photo, 15 fps, 640×480, with a 7 s tone (cut to the video by audio-merger)"
fit="scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=15"
ff -loop 1 -t 3 -i "$photos/obama3.jpg" -loop 1 -t 3 -i "$photos/biden.jpg" \
   -f lavfi -i "sine=frequency=440:duration=7" \
   -filter_complex "[0]$fit[a];[1]hflip,$fit[b];[a][b]concat=n=2:v=1[v]" \
   -map "[v]" -map 2:a -c:v libx264 -pix_fmt yuv420p -c:a aac "$out/video/demo.mp4"

step "cleaner"
"$bin/cleaner" -d "$out/data"
step "encoder"
"$bin/encoder" -d "$out/data" -f "$out/encodings.msgpack"
step "svm-trainer"
"$bin/svm-trainer" -i "$out/encodings.msgpack" -o "$out/model.msgpack" --report "$out/report/model-report.json"
step "video-labeler"
"$bin/video-labeler" -i "$out/video/demo.mp4" -o "$out/labeled.mp4" -m "$out/model.msgpack" \
    --labels "$out/labels.msgpack" --labels-json "$out/labels.json" --report-dir "$out/report" \
    --page-video "$out/final.mp4" --save-tracks "$out/tracks"
step "audio-merger"
"$bin/audio-merger" -i "$out/video/demo.mp4" -p "$out/labeled.mp4" -o "$out/final.mp4"
ff -ss 1.5 -i "$out/final.mp4" -frames:v 1 "$out/report/frame-obama.png"
ff -ss 4.5 -i "$out/final.mp4" -frames:v 1 "$out/report/frame-biden.png"

step "done"
echo "labelled video with sound: $out/final.mp4"
echo "screen time:               $out/report/screen-time.csv, $out/report/screen-time.png"
echo "model report:              $out/report/model-report.json"
echo "cleaning review page:      $out/data/review.html"
echo "labelled frames:           $out/report/frame-obama.png, $out/report/frame-biden.png"
echo "tracks, to correct a name: $bin/teach --tracks $out/tracks -d $out/data 1=obama"
