#!/usr/bin/env bash
# make eval: the job the tool exists for, measured on the TWICE development set in ../shared.
#
# Every dev photo and every stranger's photo is encoded once; each model below is trained on a
# selection of them (folders of links, so the encoder reuses the entries), and labels every clip:
#   all        every dev photo of the nine members
#   10a–10c    three random subsets of 10 photos per member
#   5of9-…     5 of the 9 members taught, with 3, 5 or 10 photos each, three splits: the other 4
#              members' clips must come out Unknown like the strangers'
#   alone-…    (set "alone") the same first split without any strangers: what a fan who has only
#              members' photos gets
# The others use the strangers folder (14 idols of other groups) to set the rule. How that rule
# treats strangers it never saw is measured by leaving people out: the trainer is run twice on
# each model's photos with half the strangers, and tested on the other half's photos.
#
#   scripts/eval.sh SHARED_DATA [EMBEDDER] [SETS]   (EMBEDDER: sface, the default, or dlib;
#                                                    SETS: "all 10 taught", the default; "alone")
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?give the shared data folder}/twice-dev
embedder=${2:-sface}
sets=${3:-all 10 taught}
[ -d "$data/photos" ] || { echo "error: $data/photos not found; set SHARED=/path/to/shared" >&2; exit 1; }
bin=$PWD/target/release
work=$PWD/.cache/eval-$embedder
rm -rf "$work"
mkdir -p "$work"
start=$(date +%s)

members=()
for dir in "$data/photos"/*/; do members+=("$(basename "$dir")"); done
strangers=()
for dir in "$data/strangers"/*/; do strangers+=("$(basename "$dir")"); done

# A deterministic shuffle: the same seed gives the same order on every machine.
shuffled() { # SEED, then lines on stdin
    shuf --random-source=<(yes "$1")
}

# The strangers in two halves of people (alternately, by name), each a folder of links.
for half in 0 1; do
    for i in "${!strangers[@]}"; do
        [ $((i % 2)) -eq "$half" ] || continue
        mkdir -p "$work/strangers-$half/${strangers[$i]}"
        ln -s "$data/strangers/${strangers[$i]}"/* "$work/strangers-$half/${strangers[$i]}/"
    done
done

echo "encoding every dev photo and stranger once…"
"$bin/encoder" -q -d "$data/photos" --strangers "$data/strangers" -f "$work/all.msgpack" --embedder "$embedder"
for half in 0 1; do
    cp "$work/all.msgpack" "$work/strangers-$half.msgpack"
    "$bin/encoder" -q -d "$work/strangers-$half" -f "$work/strangers-$half.msgpack" --embedder "$embedder"
done

runs=()
taught_flags=()
# NAME PHOTOS_PER_MEMBER SEED MEMBER…: train on those photos, label every clip (STRANGERS=no:
# without the strangers).
evaluate() {
    local name=$1 per=$2 seed=$3
    shift 3
    local with_strangers=(--strangers "$data/strangers")
    [ "${STRANGERS:-yes}" = yes ] || with_strangers=()
    local dir="$work/$name"
    mkdir -p "$dir/data" "$dir/labels" "$dir/videos"
    for member in "$@"; do
        mkdir -p "$dir/data/$member"
        ls "$data/photos/$member" | shuffled "$seed-$member" | head -n "$per" \
            | while read -r photo; do ln -s "$data/photos/$member/$photo" "$dir/data/$member/"; done
    done
    cp "$work/all.msgpack" "$dir/encodings.msgpack"
    "$bin/encoder" -q -d "$dir/data" "${with_strangers[@]}" -f "$dir/encodings.msgpack" --embedder "$embedder"
    local rule small_rule
    "$bin/svm-trainer" -i "$dir/encodings.msgpack" -o "$dir/model.msgpack" --report "$dir/report.json" --no-cv \
        > "$dir/trainer.txt"
    rule=$(grep -A2 '^decision rule' "$dir/trainer.txt" | head -n 3 | tr -s ' ')
    small_rule=$(grep -A1 '^its decision rule' "$dir/trainer.txt" | head -n 2 | tr -s ' ')
    # Strangers it never saw: trained with one half of them, tested on the other half's photos.
    local held_out=()
    local halves=(0 1)
    [ ${#with_strangers[@]} -gt 0 ] || halves=()
    for half in "${halves[@]}"; do
        local other=$((1 - half))
        cp "$work/all.msgpack" "$dir/half-$half.msgpack"
        "$bin/encoder" -q -d "$dir/data" --strangers "$work/strangers-$half" -f "$dir/half-$half.msgpack" --embedder "$embedder"
        held_out+=("$("$bin/svm-trainer" -i "$dir/half-$half.msgpack" -o "$dir/half-$half.model.msgpack" --no-cv \
            --test "$work/strangers-$other.msgpack" | sed -n 's/.*strangers named \([0-9.]*%\).*/\1/p')")
    done
    tail -n +2 "$data/clips/clips.csv" | while IFS=, read -r file _ _; do
        [ -n "$file" ] || continue
        "$bin/video-labeler" -q -i "$data/clips/$file" -o "$dir/videos/$file.mp4" -m "$dir/model.msgpack" \
            --labels "$dir/labels/$file.msgpack" --show-guesses
    done
    echo "$name ($per photos of $# members): ${rule//$'\n'/ }"
    if [ -n "$small_rule" ]; then
        echo "  faces under the small-face height: ${small_rule//$'\n'/ }"
    fi
    if [ ${#held_out[@]} -gt 0 ]; then
        echo "  strangers' photos held out of training (two halves of the 14 people), named: ${held_out[*]}"
    fi
    runs+=("$name=$dir/labels")
    taught_flags+=(--taught "$name:$(IFS=,; echo "$*")")
}

for set in $sets; do
    case $set in
        all) evaluate all 1000 0 "${members[@]}" ;;
        10) for seed in a b c; do evaluate "10$seed" 10 "$seed" "${members[@]}"; done ;;
        taught)
            for split in 1 2 3; do
                mapfile -t five < <(printf '%s\n' "${members[@]}" | shuffled "split-$split" | head -n 5 | sort)
                for per in 3 5 10; do evaluate "5of9-$split-$per" "$per" "$split" "${five[@]}"; done
            done
            ;;
        alone)
            mapfile -t five < <(printf '%s\n' "${members[@]}" | shuffled "split-1" | head -n 5 | sort)
            for per in 3 10; do STRANGERS=no evaluate "alone-$per" "$per" 1 "${five[@]}"; done
            ;;
        *) echo "error: unknown set $set (all, 10, taught, alone)" >&2; exit 2 ;;
    esac
done
echo "trained and labelled ${#runs[@]} models in $(( $(date +%s) - start )) s (under $work)"
echo
"$bin/examples/eval-clips" "$data/clips/clips.csv" "${runs[@]}" "${taught_flags[@]}"
