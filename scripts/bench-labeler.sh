#!/usr/bin/env bash
# Video labeler benchmark: frames per second beside the ceilings measured in the same run, and peak
# memory on a short and a long 1080p video.
#   - the shared Hamilton clip (640×360, 275 frames), and 720p and 1080p H.264 versions of it;
#   - about 20 s of TWICE footage at 1080p: the dev clips one after another, scaled (the model is
#     the dev photos' and the strangers');
#   - ceilings: the labeler with no face work (--passthrough: both decodes, drawing nothing,
#     encoding), and ffmpeg alone decoding and encoding with the same x264 settings;
#   - peak memory of the labeler, and of the labeler with its encoder (the ffmpeg it feeds; summed
#     resident and proportional), its passes in turn on the 20 s video and on a 5-minute loop of
#     it (flat means nothing grows with the video), side by side on the 20 s video; beside them,
#     ffmpeg alone decoding and encoding (x264's threads on frames, and on slices as in turn).
#   scripts/bench-labeler.sh [SHARED_DATA]
set -euo pipefail
shared=${1:-../shared/data}
bin=${BIN:-target/release}
examples="$shared/face_recognition/examples"
clip="$examples/short_hamilton_clip.mp4"
dev="$shared/twice-dev"
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
"$bin/encoder" -q -d "$dev/photos" --strangers "$dev/strangers" -f "$work/twice.msgpack"
"$bin/svm-trainer" -q -i "$work/twice.msgpack" -o "$work/twice-model.msgpack"

quiet_ffmpeg() { ffmpeg -loglevel error -y "$@"; }
quiet_ffmpeg -i "$clip" -vf scale=1280:720 -c:v libx264 -preset fast -an "$work/clip720.mp4"
quiet_ffmpeg -i "$clip" -vf scale=1920:1080 -c:v libx264 -preset fast -an "$work/clip1080.mp4"
: > "$work/list.txt"
for file in group-1.gif sana-1.gif group-2.gif chaeyoung-2.mp4 jihyo-1.gif mina-1.gif tzuyu-1.mp4 \
    nayeon-1.gif dahyun-1.gif chaeyoung-3.mp4; do
    quiet_ffmpeg -i "$dev/clips/$file" -an -c:v libx264 -preset veryfast -crf 18 \
        -vf "scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2,fps=30,format=yuv420p" \
        "$work/seg-$file.mp4"
    echo "file '$work/seg-$file.mp4'" >> "$work/list.txt"
done
quiet_ffmpeg -f concat -safe 0 -i "$work/list.txt" -c copy "$work/twice1080.mp4"
quiet_ffmpeg -i "$work/twice1080.mp4" -vf scale=1280:720 -c:v libx264 -preset veryfast -crf 18 "$work/twice720.mp4"
# Its first 3 frames: what every run costs before and after the frames (starting the programs,
# probing the video, loading the models, finishing the file).
quiet_ffmpeg -i "$work/twice1080.mp4" -frames:v 3 -c:v libx264 -preset veryfast "$work/twice1080-3.mp4"
# 5 minutes of it, for memory.
loops=$(( 300 / $(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/twice1080.mp4" | cut -d. -f1) ))
quiet_ffmpeg -stream_loop "$loops" -i "$work/twice1080.mp4" -c copy "$work/twice1080-long.mp4"

fps_of() { sed -nE 's/.*\(([0-9.]+) frames\/s\).*/\1/p'; }
label() { "$bin/video-labeler" -i "$1" -o "$work/out.mp4" -m "$2" "${@:3}" | fps_of; }
# ffmpeg alone decodes and encodes with the labeler's x264 settings (media/src/encode.rs: veryfast
# looks ahead SHORT_LOOKAHEAD frames): the ceiling for speed and for memory.
ceiling_encode=(-an -c:v libx264 -preset veryfast -crf 21 -threads 2 -x264-params rc-lookahead=5 -pix_fmt yuv420p -f null -)
# The same with x264's threads on slices, as the labeler in turn (for the memory ceiling).
sliced_encode=()
for arg in "${ceiling_encode[@]}"; do
    [ "$arg" = rc-lookahead=5 ] && arg=rc-lookahead=5:sliced-threads=1
    sliced_encode+=("$arg")
done
[ "${sliced_encode[*]}" != "${ceiling_encode[*]}" ] || {
    echo "error: the ceiling's x264 settings no longer say rc-lookahead=5: update sliced_encode" >&2
    exit 1
}
ffmpeg_fps() {
    local frames start end
    frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$1")
    start=$(date +%s.%N)
    ffmpeg -loglevel error -y -i "$1" "${ceiling_encode[@]}"
    end=$(date +%s.%N)
    awk -v f="$frames" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", f / (b - a) }'
}

echo "video-labeler benchmark, $(nproc) cores (frames/s include start-up; H.264, x264 veryfast, CRF 21)"
printf '%-34s %10s %14s %14s\n' "video" "frames/s" "no face work" "ffmpeg alone"
row() { # NAME VIDEO MODEL
    printf '%-34s %10s %14s %14s\n' "$1" "$(label "$2" "$3")" "$(label "$2" "$3" --passthrough)" "$(ffmpeg_fps "$2")"
}
row "Hamilton 640×360" "$clip" "$work/model.msgpack"
row "Hamilton 1280×720" "$work/clip720.mp4" "$work/model.msgpack"
row "Hamilton 1920×1080" "$work/clip1080.mp4" "$work/model.msgpack"
row "TWICE clips 1920×1080 ($(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/twice1080.mp4" | cut -d. -f1) s)" "$work/twice1080.mp4" "$work/twice-model.msgpack"
row "TWICE clips 1280×720" "$work/twice720.mp4" "$work/twice-model.msgpack"
printf '%-34s %10s\n' "TWICE 1920×1080, --passes side-by-side" "$(label "$work/twice1080.mp4" "$work/twice-model.msgpack" --passes side-by-side)"
printf '%-34s %10s\n' "TWICE 1920×1080, --codec mp4v" "$(label "$work/twice1080.mp4" "$work/twice-model.msgpack" --codec mp4v)"

seconds() { # COMMAND...: its wall time, best of 3
    local best="" start end took
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$@" > /dev/null
        end=$(date +%s.%N)
        took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
        best=$(awk -v t="$took" -v b="${best:-$took}" 'BEGIN { print (t < b) ? t : b }')
    done
    echo "$best"
}
echo "start-up, a 3-frame 1920×1080 video from start to finished file: $(seconds "$bin/video-labeler" -q \
    -i "$work/twice1080-3.mp4" -o "$work/out.mp4" -m "$work/twice-model.msgpack") s (ffmpeg alone decoding and encoding it: \
$(seconds ffmpeg -loglevel error -y -i "$work/twice1080-3.mp4" "${ceiling_encode[@]}") s)"

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

# Peak memory, sampled every 0.2 s: the process's resident memory alone, and with the children it
# feeds (the labeler's ffmpeg encoder), summed two ways: resident (each process's shared library
# pages counted in full) and proportional (PSS: pages they share counted once, split between
# them), which is what the machine gives up for them together.
peak_memory() { # COMMAND...
    "$@" &
    local pid=$! own=0 tree=0 proportional_peak=0
    # FIELD PID: kB, 0 once the process has gone.
    kb() { local v; v=$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/smaps_rollup" 2>/dev/null); echo "${v:-0}"; }
    while kill -0 "$pid" 2>/dev/null; do
        local mine resident proportional child
        mine=$(kb Rss "$pid")
        resident=$mine
        proportional=$(kb Pss "$pid")
        for child in $(pgrep -P "$pid" || true); do
            resident=$(( resident + $(kb Rss "$child") ))
            proportional=$(( proportional + $(kb Pss "$child") ))
        done
        [ "$mine" -gt "$own" ] && own=$mine
        [ "$resident" -gt "$tree" ] && tree=$resident
        [ "$proportional" -gt "$proportional_peak" ] && proportional_peak=$proportional
        sleep 0.2
    done
    wait "$pid"
    echo "$(( own / 1024 )) $(( tree / 1024 )) $(( proportional_peak / 1024 ))"
}
# In turn (the default on 2 cores) on the short and the long video; side by side on the short one.
for run in "in-turn $work/twice1080.mp4" "in-turn $work/twice1080-long.mp4" "side-by-side $work/twice1080.mp4"; do
    read -r passes input <<< "$run"
    seconds=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$input" | cut -d. -f1)
    read -r own tree proportional < <(peak_memory "$bin/video-labeler" -q -i "$input" -o "$work/out.mp4" -m "$work/twice-model.msgpack" --passes "$passes")
    echo "peak memory, 1920×1080, $seconds s, --passes $passes: $own MB (with its encoder: $tree MB resident, $proportional MB proportional)"
done
# The ceiling beside it: one ffmpeg decoding and encoding with the labeler's x264 settings (most of
# the labeler's encoder child is x264's frames, which this holds too): x264's threads each on a
# frame of its own (side by side), and sharing each frame (in turn).
read -r own _ _ < <(peak_memory ffmpeg -loglevel error -y -i "$work/twice1080.mp4" "${ceiling_encode[@]}")
read -r sliced _ _ < <(peak_memory ffmpeg -loglevel error -y -i "$work/twice1080.mp4" "${sliced_encode[@]}")
echo "peak memory, ffmpeg alone decoding and encoding the 1920×1080 video: $own MB (x264's threads on slices, as in turn: $sliced MB)"
