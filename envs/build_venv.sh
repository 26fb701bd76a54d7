#!/usr/bin/env bash
# Build (or reuse) the virtual environment .venvs/NAME from envs/requirements/NAME.txt.
# A requirement file may be split into "# --- step: X" sections: "default", "torch" and
# "deps" install normally, "mmcv" builds from source against the torch already there, "nodeps" installs --no-deps.
# The venv is reused while a stamp holds the requirement file's hash; pip's wheel cache keeps the
# mmcv build, keyed on its version alone, so the cache is dropped when torch's pin changes.
set -euo pipefail
name=$1
root=$(cd "$(dirname "$0")/.." && pwd)
req="$root/envs/requirements/$name.txt"
venv="$root/.venvs/$name"
python=${PYTHON:-python3}
[ -f "$req" ] || { echo "build_venv: no requirement file $req" >&2; exit 2; }
want=$(sha256sum "$req" | cut -c1-16)
if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$want" ]; then
    exit 0
fi
echo "build_venv: building .venvs/$name from envs/requirements/$name.txt" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip==25.3

step_file() {  # the pins of one step, comments dropped
    awk -v want="$1" '/^# --- step:/ {step=$4; next} /^[[:space:]]*(#|$)/ {next}
                      (step == "" ? "default" : step) == want' "$req" > "$venv/$1.txt"
}
for step in default torch mmcv deps nodeps; do
    step_file "$step"
    [ -s "$venv/$step.txt" ] || continue
    case $step in
        default|torch|deps) "${pip[@]}" install -r "$venv/$step.txt" ;;
        mmcv)
            torch_pin=$(grep -E '^torch==' "$req" | head -1)
            cache_tag="$HOME/.cache/posebench/mmcv-built-with"
            if [ "$(cat "$cache_tag-$name" 2>/dev/null)" != "$torch_pin" ]; then
                "${pip[@]}" cache remove 'mmcv*' >/dev/null 2>&1 || true
            fi
            ops=1; [ "$name" = mmpose0 ] && ops=0
            while read -r pin; do
                MMCV_WITH_OPS=$ops MAX_JOBS=$(nproc) "${pip[@]}" install --no-build-isolation --no-deps "$pin"
            done < "$venv/$step.txt"
            mkdir -p "$(dirname "$cache_tag")"; echo "$torch_pin" > "$cache_tag-$name"
            ;;
        nodeps) "${pip[@]}" install --no-deps -r "$venv/$step.txt" ;;
    esac
done
echo "$want" > "$venv/.stamp"
