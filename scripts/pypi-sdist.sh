# Sourced by fetch-models.sh and fetch-test-fixtures.sh: fetch one PyPI archive (an sdist or a wheel)
# without installing it and check its SHA-256.
#
#   fetch_sdist NAME VERSION SHA256 DEST_DIR   → prints the path of the verified .tar.gz
#   fetch_wheel NAME VERSION SHA256 DEST_DIR   → prints the path of the verified .whl

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

fetch_sdist() { fetch_archive sdist "$@"; }
fetch_wheel() { fetch_archive wheel "$@"; }

fetch_archive() {
    local kind=$1 name=$2 version=$3 expected=$4 dest=$5
    local python
    python=$(command -v python3 || command -v python) || {
        echo "error: python3 with pip is needed to fetch $name==$version from PyPI (apt-get install python3-pip)" >&2
        return 1
    }
    if ! "$python" -m pip --version >/dev/null 2>&1; then
        echo "error: pip is missing; install it with: apt-get install python3-pip" >&2
        return 1
    fi
    # --no-deps: only the archive itself; nothing is installed.
    local only=(--no-binary :all:) pattern='*.tar.gz'
    if [ "$kind" = wheel ]; then
        only=(--only-binary :all:)
        pattern='*.whl'
    fi
    if ! "$python" -m pip download --quiet --disable-pip-version-check --no-deps "${only[@]}" \
            "$name==$version" -d "$dest" >&2; then
        echo "error: could not download $name==$version from PyPI (no network, or PyPI unreachable)" >&2
        return 1
    fi
    local archive
    archive=$(find "$dest" -maxdepth 1 -name "$pattern" | head -n 1)
    if [ -z "$archive" ]; then
        echo "error: pip did not produce a $kind for $name==$version in $dest" >&2
        return 1
    fi
    local actual
    actual=$(sha256_of "$archive")
    if [ "$actual" != "$expected" ]; then
        echo "error: $archive has SHA-256 $actual, expected $expected; refusing to use it" >&2
        return 1
    fi
    echo "$archive"
}
