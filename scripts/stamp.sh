#!/usr/bin/env bash
# Stamps for make: a small file that changes when, and only when, what it stands for changes, so a
# target that depends on it is redone exactly then (make itself only sees dates).
#   scripts/stamp.sh STAMP folder DIR   the photos of DIR's person folders (and DIR/.strangers):
#                                       every file's path, size and date
#   scripts/stamp.sh STAMP file FILE    FILE's content (SHA-256): another video, even an older
#                                       file or one copied over it, is another video
# STAMP is rewritten only when its content would change.
set -euo pipefail
stamp=${1:?stamp file} kind=${2:?folder or file} path=${3:?path}
mkdir -p "$(dirname "$stamp")"
new="$stamp.new.$$"
trap 'rm -f "$new"' EXIT
case $kind in
    folder)
        if [ -d "$path" ]; then
            # Person folders' files, and the strangers'; not the quarantine, the video folder or
            # the cleaner's own reports at the top.
            (cd "$path" && find -L . -mindepth 2 \( -path ./.quarantine -o -path ./video \) -prune \
                -o -type f ! -name '.*.partial-*' -printf '%P\t%s\t%T@\n' | LC_ALL=C sort) > "$new"
        else
            : > "$new"
        fi
        ;;
    file)
        [ -f "$path" ] || { echo "error: $path not found" >&2; exit 1; }
        sha256sum < "$path" | cut -d' ' -f1 > "$new"
        ;;
    *) echo "error: stamp kind $kind (folder or file)" >&2; exit 2 ;;
esac
if [ -f "$stamp" ] && cmp -s "$new" "$stamp"; then
    exit 0
fi
mv "$new" "$stamp"
