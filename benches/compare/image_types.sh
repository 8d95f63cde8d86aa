#!/usr/bin/env bash
# radx against PyRadiomics 3.0.1 with PyRadiomics' own parameter files, image types included:
# exampleCT.yaml (Original, LoG σ 1–5 mm, the 8 wavelet sub-bands: 1218 features) on the three
# generated cases of run.sh, and Params.yaml on brain2 and breast1. One case per process,
# the two tools alternating, RUNS runs each (default 3); prints the median wall times, the
# speed-up, and how many features differ beyond 1e-6 relative.
# Not part of CI. Usage: benches/compare/image_types.sh [WORK_DIR]  (run.sh's work folder:
# its venv and cases; default /tmp/radx-compare). PY=… overrides the Python with PyRadiomics.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${1:-/tmp/radx-compare}
PY=${PY:-$WORK/venv/bin/python}
RUNS=${RUNS:-3}
RADX=${RADX:-$ROOT/target/release/radx}
[ -x "$RADX" ] || (cd "$ROOT" && cargo build --release -p radx --bin radx)
EXAMPLES=$ROOT/tests/data/pyradiomics/params/examples
DATA=$ROOT/tests/data/pyradiomics/data

wall() { local t0 t1; t0=$EPOCHREALTIME; "$@" > /dev/null 2>&1; t1=$EPOCHREALTIME; echo "$t1 - $t0" | bc -l; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf '%-8s %-14s %10s %10s %9s %s\n' case params radx_s pyrad_s speedup differing
run_case() { # name image mask params
  local name=$1 image=$2 mask=$3 params=$4 out=$WORK/image_types/$1.$(basename "$4" .yaml)
  mkdir -p "$(dirname "$out")"
  local r=() p=()
  for _ in $(seq "$RUNS"); do
    r+=("$(wall "$RADX" extract --image "$image" --mask "$mask" --settings "$params" --names pyradiomics -o "$out.radx.csv")")
    p+=("$(wall "$PY" "$HERE/pyradiomics_case.py" "$image" "$mask" "$params" "$out.pyradiomics.csv")")
  done
  local rm pm
  rm=$(printf '%s\n' "${r[@]}" | median); pm=$(printf '%s\n' "${p[@]}" | median)
  local differing
  differing=$("$PY" - "$out.radx.csv" "$out.pyradiomics.csv" <<'PYEOF'
import csv, math, sys
radx = {r["feature"]: float(r["value"]) for r in csv.DictReader(open(sys.argv[1]))}
pyr = {k: float(v) for k, v in csv.reader(open(sys.argv[2]))}
bad = [k for k, v in pyr.items() if k not in radx or not (
    abs(radx[k] - v) <= 1e-6 * abs(v) or abs(radx[k] - v) <= 1e-9 or (math.isnan(v) and math.isnan(radx[k])))]
print(f"{len(bad)} of {len(pyr)}" + (f" (e.g. {bad[0]})" if bad else ""))
PYEOF
)
  printf '%-8s %-14s %10.3f %10.3f %8.1fx %s\n' "$name" "$(basename "$params" .yaml)" "$rm" "$pm" "$(echo "$pm / $rm" | bc -l)" "$differing"
}
for c in small medium large; do
  run_case "$c" "$WORK/$c/image.nii.gz" "$WORK/$c/mask.nii.gz" "$EXAMPLES/exampleCT.yaml"
done
for c in brain2 breast1; do
  run_case "$c" "$DATA/${c}_image.nrrd" "$DATA/${c}_label.nrrd" "$EXAMPLES/Params.yaml"
  run_case "$c" "$DATA/${c}_image.nrrd" "$DATA/${c}_label.nrrd" "$EXAMPLES/exampleCT.yaml"
done
