//! A gzip stream (RFC 1952: one member or several, concatenated) read as its inflated
//! bytes, each member's CRC-32 and length checked against its trailer.
//!
//! flate2's `MultiGzDecoder` does the same but always computes the CRC-32. A reader that
//! stops before the end of the stream (the region reader stops at the ROI's last slice) can
//! never compare it with the trailer, and computing it costs about a tenth of the time to
//! inflate a CT, on the thread every case waits for. [`SkipCheck`] turns it off for such a
//! reader; a reader that goes on to the end after all then reports the trailer unchecked as
//! an error rather than passing it silently.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::Crc;
use flate2::bufread::DeflateDecoder;

/// Turns off the CRC-32 check of the [`GzipReader`] it came with, for a reader that will
/// stop before the end of the stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct SkipCheck(Arc<AtomicBool>);

impl SkipCheck {
    pub(crate) fn skip(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn skipped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

enum Stage {
    /// At the start of a member: its header comes next.
    Header,
    /// Inside a member's deflate data.
    Data,
    /// After the last member.
    Done,
}

/// The inflated bytes of a gzip stream.
pub(crate) struct GzipReader<R> {
    inflater: DeflateDecoder<R>,
    stage: Stage,
    crc: Crc,
    skip: SkipCheck,
}

impl<R: BufRead> GzipReader<R> {
    /// A reader of the gzip stream `reader` is positioned at, and the switch that turns off
    /// its CRC-32 check.
    pub(crate) fn new(reader: R) -> (GzipReader<R>, SkipCheck) {
        let skip = SkipCheck::default();
        let reader = GzipReader { inflater: DeflateDecoder::new(reader), stage: Stage::Header, crc: Crc::new(), skip };
        let switch = reader.skip.clone();
        (reader, switch)
    }

    /// Compare the member's trailer with what was inflated, then see whether another member
    /// follows. Without the CRC-32 a member is passed unchecked on the way to the next; the
    /// stream's end, which the reader meant to stop before, is an error.
    fn finish_member(&mut self) -> io::Result<()> {
        let mut trailer = [0u8; 8];
        let input = self.inflater.get_mut();
        input.read_exact(&mut trailer)?;
        let last = input.fill_buf()?.is_empty();
        if self.skip.skipped() {
            if last {
                return Err(invalid("the CRC-32 was not computed, so the trailer cannot be checked"));
            }
        } else {
            let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
            let length = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
            if crc != self.crc.sum() {
                return Err(invalid("the CRC-32 in the trailer does not match the data"));
            }
            if length != self.crc.amount() {
                return Err(invalid("the length in the trailer does not match the data"));
            }
        }
        self.stage = if last { Stage::Done } else { Stage::Header };
        Ok(())
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.stage {
                Stage::Header => {
                    skip_header(self.inflater.get_mut())?;
                    self.inflater.reset_data();
                    self.crc.reset();
                    self.stage = Stage::Data;
                }
                Stage::Data => {
                    // 0 bytes into a non-empty buffer: the member's deflate data has ended
                    // (an input that ends first is an `UnexpectedEof` error).
                    let n = self.inflater.read(buf)?;
                    if n > 0 {
                        if !self.skip.skipped() {
                            self.crc.update(&buf[..n]);
                        }
                        return Ok(n);
                    }
                    self.finish_member()?;
                }
                Stage::Done => return Ok(0),
            }
        }
    }
}

fn invalid(reason: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason.to_string())
}

/// Read past a member header (RFC 1952, 2.3): magic, method, flags, time, extra flags and
/// system, then the optional extra field, name, comment and header CRC the flags announce.
fn skip_header<R: BufRead>(input: &mut R) -> io::Result<()> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    let mut fixed = [0u8; 10];
    input.read_exact(&mut fixed)?;
    if fixed[0..2] != [0x1f, 0x8b] {
        return Err(invalid("not a gzip stream (bad magic bytes)"));
    }
    if fixed[2] != 8 {
        return Err(invalid("unknown gzip compression method (only deflate is defined)"));
    }
    let flags = fixed[3];
    if flags & 0xe0 != 0 {
        return Err(invalid("reserved gzip header flags are set"));
    }
    if flags & FEXTRA != 0 {
        let mut length = [0u8; 2];
        input.read_exact(&mut length)?;
        let length = u64::from(u16::from_le_bytes(length));
        if io::copy(&mut input.take(length), &mut io::sink())? < length {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let mut text = Vec::new();
            input.read_until(0, &mut text)?;
            if text.last() != Some(&0) {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
    if flags & FHCRC != 0 {
        input.read_exact(&mut [0u8; 2])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::{Compression, GzBuilder};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn inflate(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        GzipReader::new(bytes).0.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_with_optional_fields_are_read_in_turn() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut named = GzBuilder::new()
            .filename("a.nii")
            .comment("radx")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::default());
        named.write_all(&data[..20_000]).unwrap();
        let stream = [named.finish().unwrap(), gzip(&data[20_000..])].concat();
        assert_eq!(inflate(&stream).unwrap(), data);
    }

    #[test]
    fn damage_is_an_error() {
        let stream = gzip(&[5u8; 10_000]);
        let kind = |bytes: &[u8]| inflate(bytes).unwrap_err().kind();
        // Cut in the data, in the trailer, in the header.
        assert_eq!(kind(&stream[..stream.len() / 2]), io::ErrorKind::UnexpectedEof);
        assert_eq!(kind(&stream[..stream.len() - 3]), io::ErrorKind::UnexpectedEof);
        assert_eq!(kind(&stream[..5]), io::ErrorKind::UnexpectedEof);
        // A wrong CRC, a wrong length, a wrong magic number, garbage after the member.
        for (at, what) in [(stream.len() - 8, "CRC-32"), (stream.len() - 1, "length"), (0, "magic")] {
            let mut bad = stream.clone();
            bad[at] ^= 0x40;
            let e = inflate(&bad).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{what}");
            assert!(e.to_string().contains(what), "{what}: {e}");
        }
        assert_eq!(kind(&[stream.as_slice(), b"junk after the member"].concat()), io::ErrorKind::InvalidData);
    }

    /// A reader that stops early reads on through the ends of members (bgzip and `cat a.gz
    /// b.gz` make many); only the stream's end is refused.
    #[test]
    fn a_skipped_check_passes_the_members_on_the_way() {
        let data: Vec<u8> = (0..90_000u32).map(|i| (i % 251) as u8).collect();
        let stream = [gzip(&data[..30_000]), gzip(&data[30_000..60_000]), gzip(&data[60_000..])].concat();
        let (mut reader, skip) = GzipReader::new(stream.as_slice());
        skip.skip();
        let mut most = vec![0u8; 80_000];
        reader.read_exact(&mut most).unwrap();
        assert_eq!(most, data[..80_000]);
        let e = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn a_skipped_check_is_not_passed_off_as_checked() {
        let data = vec![9u8; 70_000];
        let stream = gzip(&data);
        let (mut reader, skip) = GzipReader::new(stream.as_slice());
        let mut first = vec![0u8; 1000];
        reader.read_exact(&mut first).unwrap();
        skip.skip();
        let mut rest = Vec::new();
        let e = reader.read_to_end(&mut rest).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(first.len() + rest.len(), data.len());
    }
}
