#!/usr/bin/env bash
# The DICOM read-speed measurement of docs/dicom.md (not part of CI): a 300-slice CT series
# read and a large RTSTRUCT ROI rasterised, against the same image and mask as .nii.gz.
#
#   benches/dicom/run.sh [WORK_DIR] [RUNS]
#
# Needs python3 (a venv with pydicom and numpy is made in WORK_DIR) and cargo.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$(dirname "$here")")"
work="${1:-$root/target/dicom-speed}"
runs="${2:-7}"
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q pydicom==3.0.2 numpy
fi
if [ ! -f "$work/RS.dcm" ]; then
    "$work/venv/bin/python" "$here/make_ct_series.py" "$work"
fi
cd "$root"
cargo build --release -q --bin radx -p radx
cargo build --release -q -p radx-dicom --example read_speed
# The same data as NIfTI, written by radx convert (int16 image, uint8 mask, geometry kept).
if [ ! -f "$work/mask.nii.gz" ]; then
    target/release/radx convert --image "$work/image" --mask "$work/RS.dcm" --roi body \
        --output-image "$work/image.nii.gz" --output-mask "$work/mask.nii.gz"
fi
target/release/examples/read_speed "$work/image" "$work/RS.dcm" body "$work/image.nii.gz" "$work/mask.nii.gz" "$runs"
