//! SimpleITK's `Hash` (what PyRadiomics reports as `Image-original_Hash` and
//! `Mask-original_Hash`): the SHA-1 of the voxel buffer, x fastest, each voxel in the
//! image's pixel type, little-endian. PyRadiomics casts the mask to `UInt32` first.

use radx_core::Volume;
use radx_io::VoxelType;
use sha1::{Digest, Sha1};

use crate::case::VolumeSource;

/// The hash of an image as read from `source`: in the file's voxel type (float32 for a
/// NIfTI file with intensity scaling, as ITK reads it), an array's own type, float64 for a
/// volume given in memory.
pub fn image_hash(source: &VolumeSource, image: &Volume<f64>) -> String {
    hash(image, source.pixel_type().unwrap_or(VoxelType::F64))
}

/// The hash of a label map cast to `UInt32`.
pub fn mask_hash(labels: &Volume<f64>) -> String {
    hash(labels, VoxelType::U32)
}

fn hash(volume: &Volume<f64>, pixel: VoxelType) -> String {
    const FLUSH: usize = 1 << 15;
    let mut sha = Sha1::new();
    let mut buffer = Vec::with_capacity(FLUSH + 8);
    for &v in volume.data.t().iter() {
        push_bytes(&mut buffer, v, pixel);
        if buffer.len() >= FLUSH {
            sha.update(&buffer);
            buffer.clear();
        }
    }
    sha.update(&buffer);
    sha.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `v` in `pixel`'s type, little-endian (integers are exact in radx's `f64`; a cast
/// saturates where C++'s would be undefined).
fn push_bytes(out: &mut Vec<u8>, v: f64, pixel: VoxelType) {
    match pixel {
        VoxelType::U8 => out.push(v as u8),
        VoxelType::I8 => out.extend((v as i8).to_le_bytes()),
        VoxelType::U16 => out.extend((v as u16).to_le_bytes()),
        VoxelType::I16 => out.extend((v as i16).to_le_bytes()),
        VoxelType::U32 => out.extend((v as u32).to_le_bytes()),
        VoxelType::I32 => out.extend((v as i32).to_le_bytes()),
        VoxelType::U64 => out.extend((v as u64).to_le_bytes()),
        VoxelType::I64 => out.extend((v as i64).to_le_bytes()),
        VoxelType::F32 => out.extend((v as f32).to_le_bytes()),
        VoxelType::F64 => out.extend(v.to_le_bytes()),
    }
}
