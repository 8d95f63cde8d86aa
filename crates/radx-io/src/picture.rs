//! Pictures for people to look at (`radx map --preview`): an 8-bit RGB raster written as a
//! PNG, atomically like every other output.

use std::path::Path;

use crate::IoError;

/// An 8-bit RGB raster, rows top to bottom, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbPicture {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// `3 × width × height` bytes: red, green, blue of each pixel, row-major.
    pub pixels: Vec<u8>,
}

impl RgbPicture {
    /// A `width × height` picture of one colour.
    pub fn filled(width: u32, height: u32, colour: [u8; 3]) -> RgbPicture {
        let pixels = colour.repeat(width as usize * height as usize);
        RgbPicture { width, height, pixels }
    }

    /// Colour the pixel at column `x`, row `y`; a pixel outside the picture is ignored, so
    /// drawings may be clipped at the edges.
    pub fn set(&mut self, x: i64, y: i64, colour: [u8; 3]) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let at = 3 * (y as usize * self.width as usize + x as usize);
        self.pixels[at..at + 3].copy_from_slice(&colour);
    }

    /// The colour at column `x`, row `y` (inside the picture).
    pub fn get(&self, x: u32, y: u32) -> [u8; 3] {
        let at = 3 * (y as usize * self.width as usize + x as usize);
        [self.pixels[at], self.pixels[at + 1], self.pixels[at + 2]]
    }
}

/// Write `picture` to `path` as a PNG (8-bit RGB), atomically: the file appears whole or
/// not at all.
///
/// # Errors
/// [`IoError::Write`] naming `path`.
pub fn write_png(path: &Path, picture: &RgbPicture) -> Result<(), IoError> {
    let mut bytes = Vec::new();
    encode_png(picture, &mut bytes)
        .map_err(|e| IoError::Write { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
    crate::write_atomic(path, &bytes)
}

fn encode_png(picture: &RgbPicture, out: &mut Vec<u8>) -> Result<(), png::EncodingError> {
    let mut encoder = png::Encoder::new(out, picture.width, picture.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&picture.pixels)?;
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_picture_decodes_to_the_same_pixels() {
        let mut picture = RgbPicture::filled(5, 3, [10, 20, 30]);
        picture.set(4, 2, [255, 0, 7]);
        picture.set(-1, 0, [1, 1, 1]); // clipped, not a panic
        picture.set(5, 0, [1, 1, 1]);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("p.png");
        write_png(&path, &picture).expect("written");
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).expect("open")));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buffer = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buffer).expect("a frame");
        assert_eq!((info.width, info.height, info.color_type), (5, 3, png::ColorType::Rgb));
        assert_eq!(&buffer[..info.buffer_size()], picture.pixels.as_slice());
        assert_eq!(picture.get(4, 2), [255, 0, 7]);
        assert_eq!(picture.get(0, 0), [10, 20, 30]);
    }

    #[test]
    fn an_unwritable_path_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("missing-folder").join("p.png");
        let err = write_png(&path, &RgbPicture::filled(1, 1, [0; 3])).expect_err("no folder");
        assert!(err.to_string().contains("missing-folder"), "{err}");
    }
}
