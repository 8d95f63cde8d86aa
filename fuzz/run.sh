#!/usr/bin/env bash
# Run every radx fuzz target for SECONDS each (default 60), one after the other.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a C++ compiler (libfuzzer-sys builds
# libFuzzer). cargo-fuzz wants a nightly toolchain for `-Zsanitizer=address`; on a stable
# toolchain RUSTC_BOOTSTRAP=1 unlocks the same flags (set below). Seeds come from the
# repository's test data; new corpus entries go to fuzz/corpus/TARGET, crashes to
# fuzz/artifacts/TARGET. Each run's log is fuzz/logs/TARGET.log; the last line printed per
# target is libFuzzer's "Done N runs in S second(s)".
set -euo pipefail

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(nifti nrrd dsl settings dicom)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: run \`cargo install cargo-fuzz\` first" >&2
    exit 2
fi
export RUSTC_BOOTSTRAP=1

# Seed corpora from files the project already has (the first byte of a NIfTI or settings
# input selects the decoder: even = plain / TOML, odd = gzip / YAML).
seed() {
    local target="$1"
    local dir="$here/corpus/$target"
    mkdir -p "$dir"
    case "$target" in
    nifti)
        local phantom="$root/tests/data/ibsi/digital_phantom/image.nii.gz"
        { printf '\001'; cat "$phantom"; } >"$dir/seed-phantom-gz"
        { printf '\000'; gzip -dc "$phantom"; } >"$dir/seed-phantom-raw"
        ;;
    nrrd)
        cp "$root/tests/data/pyradiomics/data/breast1_label.nrrd" "$dir/seed-breast1-label"
        printf 'NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\nsizes: 2 2 1\nspace directions: (1,0,0) (0,1,0) (0,0,1)\nendian: little\nencoding: raw\nspace origin: (0,0,0)\n\n\001\000\002\000\003\000\004\000' \
            >"$dir/seed-raw"
        ;;
    dsl)
        for f in "$root"/features/*.radx; do cp "$f" "$dir/seed-$(basename "$f")"; done
        ;;
    dicom)
        local d="$root/tests/data/dicom"
        { printf '\000'; cat "$d/pydicom/MR_small.dcm"; } >"$dir/seed-image"
        { printf '\000'; cat "$d/seg/enhanced_ct_rle.dcm"; } >"$dir/seed-enhanced-rle"
        { printf '\001'; cat "$d/ibsi_1_ct_radiomics_phantom/dicom/mask/DCM_RS_00060.dcm"; } >"$dir/seed-rtstruct"
        { printf '\002'; cat "$d/seg/seg_binary.dcm"; } >"$dir/seed-seg-binary"
        { printf '\002'; cat "$d/seg/seg_fractional_rle.dcm"; } >"$dir/seed-seg-fractional"
        ;;
    settings)
        for f in "$root"/tests/data/ibsi/*.toml; do { printf '\000'; cat "$f"; } >"$dir/seed-$(basename "$f")"; done
        printf '\001label: 2\nresample: {spacing: [2.0, 2.0, 2.0]}\ndiscretisation:\n  texture: {method: fixed_bin_size, width: 25.0}\n' \
            >"$dir/seed-yaml"
        ;;
    esac
}

mkdir -p "$here/logs"
cd "$here"
for target in "${targets[@]}"; do
    seed "$target"
    echo "== $target: ${seconds}s" >&2
    # -rss_limit_mb / -malloc_limit_mb: an allocation the readers' budget should refuse is a finding.
    cargo fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 \
        >"logs/$target.log" 2>&1 || {
        echo "$target: FAILED, see fuzz/logs/$target.log and fuzz/artifacts/$target" >&2
        tail -n 40 "logs/$target.log" >&2
        exit 1
    }
    grep -E '^Done [0-9]+ runs' "logs/$target.log" | sed "s/^/$target: /"
done
