//! Image reading: a 256×256×96 int16 synthetic CT (12.6 MB of voxels) from gzip NIfTI and
//! gzip NRRD, whole (`read_volume`, f64) and as the pipeline reads it (the label mask,
//! then only the ROI box of the image). Throughput is reported in decompressed bytes, so
//! the inflate speed of flate2's zlib-rs backend can be read off directly.
//!
//! Run: `cargo bench -p radx-engine --bench read`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use radx_engine::io::{ReadOptions, VoxelType, read_label_mask, read_region, read_volume, write_nrrd};

fn reading(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let dims = [256, 256, 96];
    radx_engine::synthetic::write_case(dir.path(), dims, 30_000.0).expect("synthetic case");
    let nifti = dir.path().join("image.nii.gz");
    let nrrd = dir.path().join("image.nrrd");
    let image = read_volume(&nifti).expect("image");
    write_nrrd(&nrrd, &image, VoxelType::I16).expect("NRRD copy");
    drop(image);
    let mask = dir.path().join("mask.nii.gz");
    let opts = ReadOptions::default();
    let bbox = read_label_mask(&mask, 1, &opts).expect("mask").bbox.expect("label 1 present");

    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    group.throughput(Throughput::Bytes((dims.iter().product::<usize>() * 2) as u64));
    group.bench_function("nifti_gz_whole_f64", |b| b.iter(|| black_box(read_volume(&nifti).expect("read"))));
    group.bench_function("nrrd_gz_whole_f64", |b| b.iter(|| black_box(read_volume(&nrrd).expect("read"))));
    group
        .bench_function("nifti_gz_roi_box", |b| b.iter(|| black_box(read_region(&nifti, &bbox, &opts).expect("read"))));
    group.throughput(Throughput::Bytes(dims.iter().product::<usize>() as u64));
    group.bench_function("nifti_gz_label_mask_u8", |b| {
        b.iter(|| black_box(read_label_mask(&mask, 1, &opts).expect("read")))
    });
    group.finish();
}

criterion_group!(benches, reading);
criterion_main!(benches);
