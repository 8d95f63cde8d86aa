#!/usr/bin/env bash
# Side-by-side timing of `radx extract` and PyRadiomics (and Nyxus when it installs) on three
# deterministic synthetic CT-like cases (radx::synthetic), with equivalent settings:
# original image, fixed bin width 25, all feature classes, 3D, no resampling.
# Not part of CI. Usage: benches/compare/run.sh [WORK_DIR]   (default /tmp/radx-compare)
# radx runs twice: with its own settings (the IBSI library, given PyRadiomics' bin lower
# bound) and with PyRadiomics' parameter file itself (PyRadiomics' definitions and names).
# Prints a table of wall time (median of RUNS=3 runs), peak RSS (/usr/bin/time -v) and
# radx/peer ratios, then every feature of the second radx run against PyRadiomics, then the
# features of the first that PyRadiomics defines the same way, with their relative
# differences.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${1:-/tmp/radx-compare}
VENV=$WORK/venv
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip setuptools wheel
  # PyRadiomics 3.0.1 (the issue's baseline) builds from source against numpy < 2;
  # 3.1.0 is the fallback when that build fails on this Python.
  "$VENV/bin/pip" install -q "numpy<2" "SimpleITK>=2.2,<2.5" pykwalify six PyWavelets
  "$VENV/bin/pip" install -q --no-build-isolation "pyradiomics==3.0.1" \
    || "$VENV/bin/pip" install -q --no-build-isolation "pyradiomics==3.1.0"
fi
# Nyxus needs numpy >= 2 (through pandas 3), PyRadiomics 3.0.1 numpy < 2: separate venvs.
NYX_VENV=$WORK/venv-nyxus
if [ ! -x "$NYX_VENV/bin/python" ]; then
  python3 -m venv "$NYX_VENV"
  "$NYX_VENV/bin/pip" install -q nyxus || echo "nyxus did not install: skipped"
fi
PY=$VENV/bin/python
NYX_PY=$NYX_VENV/bin/python
HAVE_NYXUS=$($NYX_PY -c 'import nyxus' 2>/dev/null && echo 1 || echo 0)

(cd "$ROOT" && cargo build --release -p radx --bin radx && cargo build --release -p radx-engine --example synthetic_case)
RADX=$ROOT/target/release/radx

CASES=("small 256 256 25 4137" "medium 256 256 96 30000" "large 512 512 200 200000")
for c in "${CASES[@]}"; do
  set -- $c
  [ -f "$WORK/$1/mask.nii.gz" ] || "$ROOT/target/release/examples/synthetic_case" "$2" "$3" "$4" "$5" "$WORK/$1"
done

cat > "$WORK/params.yaml" <<'YAML'
imageType:
  Original: {}
featureClass:
  shape:
  firstorder:
  glcm:
  glrlm:
  glszm:
  gldm:
  ngtdm:
setting:
  binWidth: 25
  label: 1
  force2D: false
  interpolator: sitkBSpline
  resampledPixelSpacing:
YAML

# time_of CMD...: "wall_s peak_mib" over RUNS runs (default 3): the median wall time of the
# command run directly, between two reads of bash's clock ($EPOCHREALTIME: no process
# spawned for the reading, so the interval is the command's own launch, run and exit), and
# the largest peak RSS over as many more runs under GNU time (whose own fork and exec would
# add a few milliseconds to a timed run).
RUNS=${RUNS:-3}
time_of() {
  local walls=() peak=0
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$EPOCHREALTIME
    "$@" > /dev/null 2> "$WORK/run.txt" || { cat "$WORK/run.txt" >&2; return 1; }
    t1=$EPOCHREALTIME
    walls+=("$(echo "$t1 - $t0" | bc -l)")
    /usr/bin/time -v "$@" > /dev/null 2> "$WORK/time.txt" || { cat "$WORK/time.txt" >&2; return 1; }
    local m
    m=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$WORK/time.txt")
    peak=$(echo "$m $peak" | awk '{ print ($1 > $2) ? $1 : $2 }')
  done
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  printf '%.4f %s' "$median" "$peak"
}

printf '\n%-7s %12s %12s %12s %12s %12s %9s %9s %12s %12s %9s %s\n' case radx_s radx_MiB radx/raw pyrad_s pyrad_MiB speedup mem_ratio radx_pyr_s radx_pyr_MiB speedup nyxus_s
for c in "${CASES[@]}"; do
  set -- $c
  d=$WORK/$1
  # PyRadiomics bins from floor(min/25)·25; radx (IBSI) from the ROI minimum unless told:
  # give radx the same lower bound so texture features are comparable.
  lb=$($PY "$HERE/lower_bound.py" "$d/image.nii.gz" "$d/mask.nii.gz" 25)
  printf '[discretisation.texture]\nmethod = "fixed_bin_size"\nwidth = 25.0\nlower_bound = %s\n[texture]\naggregations = ["3d_avg", "3d_mrg"]\n' "$lb" > "$d/radx.toml"
  read -r rw rm <<< "$(time_of "$RADX" extract --image "$d/image.nii.gz" --mask "$d/mask.nii.gz" --settings "$d/radx.toml" -o "$d/radx.csv")"
  read -r pw pm <<< "$(time_of "$PY" "$HERE/pyradiomics_case.py" "$d/image.nii.gz" "$d/mask.nii.gz" "$WORK/params.yaml" "$d/pyradiomics.csv")"
  # radx given PyRadiomics' own parameter file: PyRadiomics' definitions and names.
  read -r qw qm <<< "$(time_of "$RADX" extract --image "$d/image.nii.gz" --mask "$d/mask.nii.gz" --settings "$WORK/params.yaml" --names pyradiomics -o "$d/radx_pyradiomics.csv")"
  nw=-
  if [ "$HAVE_NYXUS" = 1 ]; then
    read -r nw _ <<< "$(time_of "$NYX_PY" "$HERE/nyxus_case.py" "$d/image.nii.gz" "$d/mask.nii.gz" || echo "- -")"
  fi
  # Peak memory against the raw image's voxel bytes (the issue's 1.5x budget).
  raw=$($PY -c "import SimpleITK as s, sys; i = s.ReadImage(sys.argv[1]); print(i.GetNumberOfPixels() * i.GetSizeOfPixelComponent() / 2**20)" "$d/image.nii.gz")
  printf '%-7s %12s %12s %11.2fx %12s %12s %8.1fx %8.2fx %12s %12s %8.1fx %s\n' "$1" "$rw" "$rm" "$(echo "$rm / $raw" | bc -l)" "$pw" "$pm" \
    "$(echo "$pw / $rw" | bc -l)" "$(echo "$rm / $pm" | bc -l)" "$qw" "$qm" "$(echo "$pw / $qw" | bc -l)" "$nw"
done

echo
echo "radx with PyRadiomics' parameter file against PyRadiomics, every feature:"
for c in "${CASES[@]}"; do
  set -- $c
  $PY "$HERE/compare_pyradiomics_mode.py" "$1" "$WORK/$1/radx_pyradiomics.csv" "$WORK/$1/pyradiomics.csv"
done

echo
echo "Features both tools define the same way (large case), relative difference:"
$PY "$HERE/compare_values.py" "$WORK/large/radx.csv" "$WORK/large/pyradiomics.csv"
