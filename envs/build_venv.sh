#!/usr/bin/env bash
# Build (or reuse) the virtual environment .venvs/NAME from envs/requirements/NAME.txt.
# A requirement file may be split into "# --- step: X" sections: "default", "torch" and
# "deps" install normally, "mmcv" builds from source against the torch already there, "nodeps" installs --no-deps.
# The venv is reused while a stamp holds the requirement file's hash. pip's wheel cache keeps the
# mmcv build (about 9 minutes on 2 cores), keyed on mmcv's version alone, so an ops build is
# dropped from the cache when torch's pin changes.
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
            # an mmcv built with its C++ ops is tied to the torch it was built against
            ops=1; [ "$name" = mmpose0 ] && ops=0
            mmcv_version=$(sed -n 's/^mmcv==//p' "$venv/$step.txt")
            torch_pin=$(grep -E '^torch==' "$req" | head -1)
            built_with="$HOME/.cache/posebench/mmcv-$mmcv_version-built-with"
            if [ "$ops" = 1 ] && [ "$(cat "$built_with" 2>/dev/null)" != "$torch_pin" ]; then
                "${pip[@]}" cache remove "mmcv-$mmcv_version" >/dev/null 2>&1 || true
            fi
            while read -r pin; do
                MMCV_WITH_OPS=$ops MAX_JOBS=$(nproc) "${pip[@]}" install --no-build-isolation --no-deps "$pin"
            done < "$venv/$step.txt"
            mkdir -p "$(dirname "$built_with")"; echo "$torch_pin" > "$built_with"
            ;;
        nodeps) "${pip[@]}" install --no-deps -r "$venv/$step.txt" ;;
    esac
done
echo "$want" > "$venv/.stamp"
