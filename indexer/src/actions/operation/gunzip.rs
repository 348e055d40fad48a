//! gunzip as `gzip -d` does it: every member in turn, then zero bytes (tape or
//! block padding) are accepted and anything else after the last member is
//! refused as trailing garbage, named with its offset.

use std::io::{self, BufRead, Read};

use flate2::bufread::GzDecoder;

/// The two bytes a gzip member starts with (RFC 1952).
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A [`BufRead`] that counts the bytes consumed from it.
pub(super) trait Counted: BufRead {
    /// Bytes consumed so far.
    fn position(&self) -> u64;
}

impl<C: Counted + ?Sized> Counted for &mut C {
    fn position(&self) -> u64 {
        (**self).position()
    }
}

/// Decompresses every gzip member of its input.
pub(super) struct Gunzip<R: Counted> {
    /// The member being read; `None` once the input is done.
    member: Option<GzDecoder<R>>,
}

impl<R: Counted> Gunzip<R> {
    pub(super) fn new(input: R) -> Self {
        Gunzip {
            member: Some(GzDecoder::new(input)),
        }
    }
}

impl<R: Counted> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(member) = &mut self.member {
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let Some(member) = self.member.take() else {
                break;
            };
            let mut input = member.into_inner();
            if next_member(&mut input)? {
                self.member = Some(GzDecoder::new(input));
            }
        }
        Ok(0)
    }
}

/// After a member: whether another one starts; zero bytes up to the end are
/// consumed, anything else is trailing garbage.
fn next_member(input: &mut impl Counted) -> io::Result<bool> {
    let mut padding = false;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        let magic = buf.starts_with(&MAGIC) || buf == &MAGIC[..1];
        if magic && !padding {
            return Ok(true);
        }
        let zeros = buf.iter().take_while(|&&b| b == 0).count();
        if zeros < buf.len() {
            let at = input.position() + zeros as u64;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("trailing garbage after the last gzip member at byte {at}"),
            ));
        }
        input.consume(zeros);
        padding = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    struct Counting<'a>(&'a [u8], u64);

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n as u64;
            Ok(n)
        }
    }

    impl BufRead for Counting<'_> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            // Three bytes at a time: members and padding cross buffer ends.
            Ok(&self.0[..self.0.len().min(3)])
        }

        fn consume(&mut self, amt: usize) {
            self.0 = &self.0[amt..];
            self.1 += amt as u64;
        }
    }

    impl Counted for Counting<'_> {
        fn position(&self) -> u64 {
            self.1
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).expect("gzip");
        e.finish().expect("gzip")
    }

    fn gunzip(input: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Gunzip::new(Counting(input, 0)).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_then_zero_padding_as_gzip_d() {
        let mut input = [gzip(b"one "), gzip(b"two")].concat();
        assert_eq!(gunzip(&input).expect("two members"), b"one two");
        input.extend([0u8; 512]);
        assert_eq!(gunzip(&input).expect("padded"), b"one two");
    }

    #[test]
    fn trailing_garbage_is_named_with_its_offset() {
        let member = gzip(b"data");
        for (tail, at) in [(&b"junk"[..], 0), (b"\0\0\0x", 3), (b"\0\x1f\x8b", 1)] {
            let input = [&member[..], tail].concat();
            let error = gunzip(&input).expect_err("garbage").to_string();
            let want = format!(
                "trailing garbage after the last gzip member at byte {}",
                member.len() + at
            );
            assert_eq!(error, want);
        }
        let truncated = &member[..member.len() - 3];
        assert!(gunzip(truncated).is_err(), "a cut member is still refused");
    }
}
