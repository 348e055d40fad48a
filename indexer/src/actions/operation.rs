//! Operations: decompress an element (gunzip, bunzip2, unzip) and convert it to a
//! celltype, streaming from the input file to a buffer file, with a cap on the
//! decompressed size so that a bomb is refused and memory stays bounded.

mod gunzip;

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use faircore::{Checksum, HashAlgo, Hasher};

use super::spec::{Celltype, Command};
use gunzip::{Counted, Gunzip};

/// The largest JSON document converted to celltype plain (it is parsed in memory).
const PLAIN_LIMIT: u64 = 1 << 30;

/// What an operation does to each element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spec {
    /// The decompression, if any.
    pub command: Option<Command>,
    /// The result celltype.
    pub celltype: Celltype,
    /// The zip member to extract.
    pub member: Option<String>,
}

impl Spec {
    /// The key of this operation in the operation cache.
    pub fn cache_key(&self) -> String {
        let command = self.command.map_or("none", Command::name);
        match &self.member {
            Some(member) => format!("{command}:{member}/{}", self.celltype.name()),
            None => format!("{command}/{}", self.celltype.name()),
        }
    }
}

/// What bounds the bytes one operation writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes one element may decompress to.
    pub max_decompressed: u64,
    /// The free space (bytes) the buffer filesystem keeps: an element stops
    /// before it would write into it. `None`: 5% of the filesystem, at most 2 GiB.
    pub min_free: Option<u64>,
}

/// How often (bytes written) the free space is looked at again.
const SPACE_CHECK_EVERY: u64 = 64 << 20;

/// Applies `spec` to `input`, whose content must hash to `expected`, writing the
/// result to `out`; returns the result's checksum. `limits` bound the
/// decompressed size and keep the free space of `out`'s filesystem.
pub fn apply(
    input: &Path,
    expected: &Checksum,
    spec: &Spec,
    algo: HashAlgo,
    limits: Limits,
    out: &mut File,
) -> Result<Checksum, String> {
    let file = faircore::regular::open(input).map_err(|e| e.to_string())?;
    let mut source = HashingReader {
        inner: BufReader::with_capacity(256 << 10, file),
        hasher: algo.hasher(),
        position: 0,
    };
    let mut sink = Sink {
        out: BufWriter::with_capacity(256 << 10, out),
        hasher: algo.hasher(),
        min_free: limits.min_free,
        written: 0,
        next_check: 0,
    };
    let mut archive;
    let mut decoder: Box<dyn Read + '_> = match spec.command {
        None => Box::new(&mut source),
        Some(Command::Gunzip) => Box::new(Gunzip::new(&mut source)),
        Some(Command::Bunzip2) => Box::new(bzip2::bufread::MultiBzDecoder::new(&mut source)),
        Some(Command::Unzip) => {
            archive = open_archive(&mut source)?;
            Box::new(member(&mut archive, spec)?)
        }
    };
    convert(
        &mut Capped::new(&mut decoder, limits.max_decompressed),
        spec.celltype,
        &mut sink,
    )?;
    drop(decoder);
    // Whatever the decompressor left unread still belongs to the input's checksum.
    io::copy(&mut source, &mut io::sink()).map_err(|e| e.to_string())?;
    if source.hasher.finalize() != *expected {
        return Err("changed since it was indexed; run again".into());
    }
    let Sink { out, hasher, .. } = sink;
    out.into_inner().map_err(|e| e.error().to_string())?;
    Ok(hasher.finalize())
}

type Archive = zip::ZipArchive<io::Cursor<Vec<u8>>>;

/// Reads a whole zip archive (it is read by seeking; its size is the compressed
/// size, not the cap's).
fn open_archive(source: &mut impl Read) -> Result<Archive, String> {
    let mut bytes = Vec::new();
    source.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    zip::ZipArchive::new(io::Cursor::new(bytes)).map_err(|e| format!("not a zip archive: {e}"))
}

/// The member to extract: the one named by `spec.member`, else the only one.
fn member<'a>(archive: &'a mut Archive, spec: &Spec) -> Result<impl Read + 'a, String> {
    let index = match &spec.member {
        Some(member) => archive
            .index_for_name(member)
            .ok_or_else(|| format!("no member {member:?} in the archive"))?,
        None if archive.len() == 1 => 0,
        None => {
            return Err(format!(
                "the archive has {} members; name the one to extract with `member:`",
                archive.len()
            ));
        }
    };
    if archive
        .by_index_raw(index)
        .map_err(|e| e.to_string())?
        .encrypted()
    {
        return Err("the archive member is encrypted; fair does not decrypt".into());
    }
    archive.by_index(index).map_err(|e| e.to_string())
}

/// Streams `input` into `sink` as `celltype`.
fn convert(input: &mut dyn Read, celltype: Celltype, sink: &mut Sink<'_>) -> Result<(), String> {
    let io = |e: io::Error| e.to_string();
    match celltype {
        Celltype::Bytes => io::copy(input, sink).map(drop).map_err(io),
        Celltype::Text => utf8_chunks(input, |chunk| sink.write_all(chunk)),
        Celltype::Mixed => {
            sink.write_all(b"\"").map_err(io)?;
            utf8_chunks(input, |chunk| write_escaped(sink, chunk))?;
            sink.write_all(b"\"\n").map_err(io)
        }
        Celltype::Plain => {
            // JSON is parsed in memory: bounded apart from the decompression cap.
            let mut text = Vec::new();
            input
                .take(PLAIN_LIMIT + 1)
                .read_to_end(&mut text)
                .map_err(io)?;
            if text.len() as u64 > PLAIN_LIMIT {
                return Err(format!(
                    "JSON larger than {PLAIN_LIMIT} bytes cannot be converted to plain"
                ));
            }
            let value: serde_json::Value =
                serde_json::from_slice(&text).map_err(|e| format!("not JSON: {e}"))?;
            let bytes = faircore::plain::to_vec(&value).map_err(|e| e.to_string())?;
            sink.write_all(&bytes).map_err(io)
        }
    }
}

/// Feeds `input` to `each` in chunks, failing unless the whole is UTF-8.
fn utf8_chunks(
    input: &mut dyn Read,
    mut each: impl FnMut(&[u8]) -> io::Result<()>,
) -> Result<(), String> {
    let mut buf = vec![0u8; 256 << 10];
    let mut carried = 0;
    let mut offset = 0u64;
    loop {
        let n = match input.read(&mut buf[carried..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        let filled = carried + n;
        let valid = match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => filled,
            Err(e) if e.error_len().is_none() && n > 0 => e.valid_up_to(),
            Err(e) => {
                return Err(format!(
                    "not UTF-8 text (byte {})",
                    offset + e.valid_up_to() as u64
                ));
            }
        };
        each(&buf[..valid]).map_err(|e| e.to_string())?;
        offset += valid as u64;
        if n == 0 {
            return Ok(());
        }
        buf.copy_within(valid..filled, 0);
        carried = filled - valid;
    }
}

/// Writes UTF-8 `text` as the inside of a JSON string, escaped as serde_json and
/// Seamless escape it.
fn write_escaped(out: &mut impl Write, text: &[u8]) -> io::Result<()> {
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.write_all(&text[start..i])?;
        if escape.is_empty() {
            write!(out, "\\u{b:04x}")?;
        } else {
            out.write_all(escape)?;
        }
        start = i + 1;
    }
    out.write_all(&text[start..])
}

/// Reads through, hashing and counting what passes.
struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    position: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: io::BufRead> Counted for HashingReader<R> {
    fn position(&self) -> u64 {
        self.position
    }
}

impl<R: io::BufRead> io::BufRead for HashingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let amt = amt.min(buf.len());
            self.hasher.update(&buf[..amt]);
            self.position += amt as u64;
        }
        self.inner.consume(amt);
    }
}

/// Fails once more than `cap` bytes come through.
struct Capped<'a> {
    inner: &'a mut dyn Read,
    left: u64,
    cap: u64,
}

impl<'a> Capped<'a> {
    fn new(inner: &'a mut dyn Read, cap: u64) -> Self {
        Capped {
            inner,
            left: cap,
            cap,
        }
    }
}

impl Read for Capped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!(
                    "decompresses to more than {} bytes (--max-decompressed); refused",
                    self.cap
                ))),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Hashes and writes the result.
struct Sink<'a> {
    out: BufWriter<&'a mut File>,
    hasher: Hasher,
    /// See [`Limits::min_free`].
    min_free: Option<u64>,
    /// Bytes written so far.
    written: u64,
    /// When the free space is looked at next.
    next_check: u64,
}

impl Sink<'_> {
    /// Fails if the output's filesystem would have less than its reserve free
    /// after the next [`SPACE_CHECK_EVERY`] bytes.
    fn check_space(&self) -> io::Result<()> {
        crate::space::ensure(self.out.get_ref(), self.min_free, SPACE_CHECK_EVERY).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("stopped after {} bytes: {e}", self.written),
            )
        })
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written >= self.next_check {
            self.check_space()?;
            self.next_check = self.written + SPACE_CHECK_EVERY;
        }
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        input: &[u8],
        command: Option<Command>,
        celltype: Celltype,
        cap: u64,
    ) -> Result<Vec<u8>, String> {
        let spec = Spec {
            command,
            celltype,
            member: None,
        };
        run_spec(input, &spec, cap)
    }

    fn run_spec(input: &[u8], spec: &Spec, cap: u64) -> Result<Vec<u8>, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in");
        std::fs::write(&path, input).expect("write");
        let mut out = tempfile::tempfile().expect("tmp");
        let algo = HashAlgo::Blake3;
        let limits = Limits {
            max_decompressed: cap,
            min_free: Some(0),
        };
        let checksum = apply(&path, &algo.hash(input), spec, algo, limits, &mut out)?;
        let mut bytes = Vec::new();
        use std::io::Seek;
        out.rewind().expect("rewind");
        out.read_to_end(&mut bytes).expect("read");
        assert_eq!(checksum, algo.hash(&bytes));
        Ok(bytes)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).expect("gzip");
        e.finish().expect("gzip")
    }

    #[test]
    fn mixed_is_the_json_string_literal_plus_newline() {
        let text = "data_1XYZ\n_entry.id 1XYZ\n\"quoted\" \\ tab\t\u{1} é\n";
        let out = run(
            &gzip(text.as_bytes()),
            Some(Command::Gunzip),
            Celltype::Mixed,
            1 << 20,
        )
        .expect("ok");
        let mut expected = serde_json::to_vec(text).expect("json");
        expected.push(b'\n');
        assert_eq!(out, expected);
    }

    #[test]
    fn text_plain_and_bytes() {
        assert_eq!(
            run(b"caf\xc3\xa9", None, Celltype::Text, 100).expect("utf-8"),
            b"caf\xc3\xa9"
        );
        let err = run(b"caf\xe9", None, Celltype::Text, 100).expect_err("latin-1");
        assert!(err.contains("not UTF-8 text (byte 3)"), "{err}");
        assert_eq!(
            run(b"{\"b\":1,\"a\":[]}", None, Celltype::Plain, 100).expect("json"),
            b"{\n  \"a\": [],\n  \"b\": 1\n}\n"
        );
        assert!(
            run(b"{", None, Celltype::Plain, 100)
                .expect_err("bad")
                .contains("not JSON")
        );
        assert_eq!(
            run(b"\xff\x00", None, Celltype::Bytes, 100).expect("bytes"),
            b"\xff\x00"
        );
    }

    #[test]
    fn utf8_split_across_chunks_is_valid() {
        let text = "é".repeat(300_000); // 600,000 bytes: chunk borders fall inside characters
        let out = run(
            &gzip(text.as_bytes()),
            Some(Command::Gunzip),
            Celltype::Text,
            1 << 20,
        )
        .expect("ok");
        assert_eq!(out, text.as_bytes());
    }

    #[test]
    fn the_cap_refuses_a_bomb() {
        let bomb = gzip(&vec![0u8; 10 << 20]);
        let err = run(&bomb, Some(Command::Gunzip), Celltype::Bytes, 1 << 20).expect_err("bomb");
        assert!(err.contains("more than 1048576 bytes"), "{err}");
        assert_eq!(
            run(
                &gzip(&[1u8; 1 << 20]),
                Some(Command::Gunzip),
                Celltype::Bytes,
                1 << 20
            )
            .expect("exactly the cap")
            .len(),
            1 << 20
        );
    }

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, data) in members {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            zip.start_file(*name, options).expect("member");
            zip.write_all(data).expect("write");
        }
        zip.finish().expect("zip").into_inner()
    }

    #[test]
    fn unzip_extracts_the_single_or_the_named_member() {
        let one = zip_of(&[("a.cif", b"data_A\n")]);
        let out = run(&one, Some(Command::Unzip), Celltype::Mixed, 1 << 20).expect("one member");
        assert_eq!(out, b"\"data_A\\n\"\n");
        let two = zip_of(&[("a.cif", b"A"), ("b.cif", b"B")]);
        let err = run(&two, Some(Command::Unzip), Celltype::Bytes, 100).expect_err("two");
        assert!(
            err.contains("2 members") && err.contains("member:"),
            "{err}"
        );
        let named = Spec {
            command: Some(Command::Unzip),
            celltype: Celltype::Bytes,
            member: Some("b.cif".into()),
        };
        assert_eq!(run_spec(&two, &named, 100).expect("named"), b"B");
        let missing = Spec {
            member: Some("c.cif".into()),
            ..named
        };
        assert!(
            run_spec(&two, &missing, 100)
                .expect_err("missing")
                .contains("no member \"c.cif\"")
        );
        let err =
            run(b"not a zip", Some(Command::Unzip), Celltype::Bytes, 100).expect_err("not zip");
        assert!(err.contains("not a zip archive"), "{err}");
    }

    #[test]
    fn bunzip2_and_a_changed_input_is_noticed() {
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(b"hello\n").expect("bzip2");
        let bz = bz.finish().expect("bzip2");
        assert_eq!(
            run(&bz, Some(Command::Bunzip2), Celltype::Text, 100).expect("bunzip2"),
            b"hello\n"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in");
        std::fs::write(&path, b"now").expect("write");
        let spec = Spec {
            command: None,
            celltype: Celltype::Bytes,
            member: None,
        };
        let mut out = tempfile::tempfile().expect("tmp");
        let err = apply(
            &path,
            &HashAlgo::Blake3.hash(b"then"),
            &spec,
            HashAlgo::Blake3,
            Limits {
                max_decompressed: 100,
                min_free: Some(0),
            },
            &mut out,
        )
        .expect_err("changed");
        assert!(err.contains("changed since it was indexed"), "{err}");
    }

    #[test]
    fn an_element_stops_before_the_free_space_falls_under_the_reserve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in");
        std::fs::write(&path, b"small").expect("write");
        let spec = Spec {
            command: None,
            celltype: Celltype::Bytes,
            member: None,
        };
        let mut out = tempfile::tempfile().expect("tmp");
        let limits = Limits {
            max_decompressed: 100,
            min_free: Some(u64::MAX / 2),
        };
        let algo = HashAlgo::Blake3;
        let err = apply(&path, &algo.hash(b"small"), &spec, algo, limits, &mut out)
            .expect_err("the reserve is more than the disk");
        assert!(err.contains("free") && err.contains("--min-free"), "{err}");
    }
}
