#!/usr/bin/env bash
# `radx map` against PyRadiomics 3.0.1's voxel-based mode (issue 25): every PyRadiomics class
# at kernel radius 1 (tests/data/pyradiomics/voxel/brain2_r1.yaml) on run.sh's small case,
# one case per process, the two tools alternating, RUNS runs each (default 3). Both write
# every map as .nii.gz (radx on the image's grid, PyRadiomics on the ROI's box grown by the
# kernel, as each does). Prints each run's wall time, PyRadiomics' own split between
# computing and writing, and the medians' ratio.
# Not part of CI. Usage: benches/compare/maps.sh [WORK_DIR] (default /tmp/radx-compare).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${1:-/tmp/radx-compare}
PY=${PY:-$WORK/venv/bin/python}
RUNS=${RUNS:-3}
CASE=${CASE:-small}
PARAMS=${PARAMS:-$ROOT/tests/data/pyradiomics/voxel/brain2_r1.yaml}
RADX=${RADX:-$ROOT/target/release/radx}
[ -x "$RADX" ] || (cd "$ROOT" && cargo build --release -p radx --bin radx)
image=$WORK/$CASE/image.nii.gz mask=$WORK/$CASE/mask.nii.gz out=$WORK/maps/$CASE
wall() { local t0 t1; t0=$EPOCHREALTIME; "$@" > /dev/null 2> "$out.stderr"; t1=$EPOCHREALTIME; echo "$t1 - $t0" | bc -l; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mkdir -p "$out"
r=() p=()
for i in $(seq "$RUNS"); do
  rm -rf "$out/radx" "$out/pyradiomics"
  r+=("$(wall "$RADX" map --image "$image" --mask "$mask" --settings "$PARAMS" -o "$out/radx")")
  p+=("$(wall "$PY" "$HERE/pyradiomics_voxel_case.py" "$image" "$mask" "$PARAMS" "$out/pyradiomics")")
  printf 'run %d: radx %.3f s (%d maps), PyRadiomics %.3f s (%s)\n' "$i" "${r[-1]}" \
    "$(ls "$out/radx" | wc -l)" "${p[-1]}" "$(cat "$out.stderr")"
done
rm=$(printf '%s\n' "${r[@]}" | median); pm=$(printf '%s\n' "${p[@]}" | median)
printf 'median: radx %.3f s, PyRadiomics %.3f s, %.0fx\n' "$rm" "$pm" "$(echo "$pm / $rm" | bc -l)"
