#!/bin/sh
# Make .venv with Python >= 3.12 and install nnviz into it.
#   sh scripts/install.sh          the app
#   sh scripts/install.sh --test   the app and the test tools (pytest, pytest-qt)
# Python is looked for on PATH (python3.13, python3.12, python3, python), then
# among pyenv's versions. Set NNVIZ_PYTHON to choose one yourself.
set -eu
cd "$(dirname "$0")/.."

extra=""
[ "${1:-}" = "--test" ] && extra="[test]"

is_new_enough() {
    "$@" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

find_python() {
    if [ -n "${NNVIZ_PYTHON:-}" ]; then
        echo "$NNVIZ_PYTHON"; return 0
    fi
    for candidate in python3.13 python3.12 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 && is_new_enough "$candidate"; then
            "$candidate" -c 'import sys; print(sys.executable)'; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for version in $(pyenv versions --bare 2>/dev/null | sort -rV); do
            exe="$(pyenv root)/versions/$version/bin/python3"
            if [ -x "$exe" ] && is_new_enough "$exe"; then
                echo "$exe"; return 0
            fi
        done
    fi
    return 1
}

if [ ! -x .venv/bin/python ] || ! is_new_enough .venv/bin/python; then
    python=$(find_python) || {
        echo "nnviz needs Python 3.12 or newer; none was found on PATH or in pyenv." >&2
        echo "Install one (e.g. 'apt install python3.12-venv' or 'pyenv install 3.12'), or set NNVIZ_PYTHON." >&2
        exit 1
    }
    echo "making .venv with $python"
    rm -rf .venv
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".$extra"
echo "nnviz is installed in .venv ($(.venv/bin/python --version))"
