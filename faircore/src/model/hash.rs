//! `HashAlgo` and its streaming `Hasher`: one API over BLAKE3 (the default),
//! SHA3-256 (Seamless FAIR dirs) and SHA-256 (Seamless 1.x).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::Checksum;

/// The one hash algorithm of a catalogue, fixed at `fair init`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HashAlgo {
    /// BLAKE3: the default, fastest, and parallel within one buffer.
    #[default]
    #[serde(rename = "blake3")]
    Blake3,
    /// SHA3-256: the algorithm of Seamless FAIR dirs.
    #[serde(rename = "sha3-256")]
    Sha3_256,
    /// SHA-256: the algorithm of Seamless 1.x buffers.
    #[serde(rename = "sha256")]
    Sha256,
}

/// Buffers at least this long are hashed with BLAKE3's multi-threaded mode.
const PARALLEL_THRESHOLD: usize = 4 << 20;

impl HashAlgo {
    /// Every algorithm, in the order `--help` lists them.
    pub const ALL: [HashAlgo; 3] = [HashAlgo::Blake3, HashAlgo::Sha3_256, HashAlgo::Sha256];

    /// The name used in `fair.toml` and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            HashAlgo::Blake3 => "blake3",
            HashAlgo::Sha3_256 => "sha3-256",
            HashAlgo::Sha256 => "sha256",
        }
    }

    /// A fresh streaming hasher.
    pub fn hasher(self) -> Hasher {
        Hasher(match self {
            HashAlgo::Blake3 => State::Blake3(Box::default()),
            HashAlgo::Sha3_256 => State::Sha3_256(sha3::Sha3_256::new()),
            HashAlgo::Sha256 => State::Sha256(sha2::Sha256::new()),
        })
    }

    /// The checksum of `bytes`.
    pub fn hash(self, bytes: &[u8]) -> Checksum {
        // One-shot: no boxed state for the millions of small "str" buffers a
        // keyorder hashes.
        Checksum::from_bytes(match self {
            HashAlgo::Blake3 if bytes.len() < PARALLEL_THRESHOLD => *blake3::hash(bytes).as_bytes(),
            HashAlgo::Blake3 => *blake3::Hasher::new()
                .update_rayon(bytes)
                .finalize()
                .as_bytes(),
            HashAlgo::Sha3_256 => sha3::Sha3_256::digest(bytes).into(),
            HashAlgo::Sha256 => sha2::Sha256::digest(bytes).into(),
        })
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name was not one of `blake3`, `sha3-256`, `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hash algorithm {0:?}: expected blake3, sha3-256 or sha256")]
pub struct ParseHashAlgoError(String);

impl FromStr for HashAlgo {
    type Err = ParseHashAlgoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HashAlgo::ALL
            .into_iter()
            .find(|algo| algo.name() == s)
            .ok_or_else(|| ParseHashAlgoError(s.to_owned()))
    }
}

/// A streaming hasher for one of the catalogue algorithms.
#[derive(Clone, Debug)]
pub struct Hasher(State);

#[derive(Clone, Debug)]
enum State {
    Blake3(Box<blake3::Hasher>),
    Sha3_256(sha3::Sha3_256),
    Sha256(sha2::Sha256),
}

impl Hasher {
    /// Feeds `bytes`; large inputs use every core with BLAKE3.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            State::Blake3(h) if bytes.len() >= PARALLEL_THRESHOLD => {
                h.update_rayon(bytes);
            }
            State::Blake3(h) => {
                h.update(bytes);
            }
            State::Sha3_256(h) => h.update(bytes),
            State::Sha256(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed so far.
    pub fn finalize(self) -> Checksum {
        Checksum::from_bytes(match self.0 {
            State::Blake3(h) => *h.finalize().as_bytes(),
            State::Sha3_256(h) => h.finalize().into(),
            State::Sha256(h) => h.finalize().into(),
        })
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha3_vectors_of_the_reference() {
        let cases: [(&[u8], &str); 6] = [
            (
                b"nine\n",
                "0a5796d4ed93279e853e7174d19b3f46076f2d2003bbac993a6885ab4ff33228",
            ),
            (
                b"",
                "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
            ),
            (
                b"{}\n",
                "d0a1b2af1705c1b8495b00145082ef7470384e62ac1c4d9b9cdbbe0476c28f8c",
            ),
            (
                b"[]\n",
                "7b41ad4a50b29158e075c6463133761266adb475130b8e886f2f5649070031cf",
            ),
            (
                b"\"8.txt\"\n",
                "04dca13585576e08f015b48ed4a4c67dc29d685071cb5aff257278582a9d3d3f",
            ),
            (
                b"\"9.txt\"\n",
                "31882f49a46b0b1842818337da2c1d758daa68b0b059087e3fb1c49010378f9b",
            ),
        ];
        for (bytes, hex) in cases {
            assert_eq!(HashAlgo::Sha3_256.hash(bytes).to_hex(), hex, "{bytes:?}");
        }
    }

    #[test]
    fn known_digests_of_the_other_algorithms() {
        assert_eq!(
            HashAlgo::Sha256.hash(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            HashAlgo::Blake3.hash(b"").to_hex(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn streaming_equals_one_shot_across_the_parallel_threshold() {
        let data: Vec<u8> = (0..PARALLEL_THRESHOLD * 2 + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        for algo in HashAlgo::ALL {
            let mut h = algo.hasher();
            for chunk in data.chunks(PARALLEL_THRESHOLD + 3) {
                h.update(chunk);
            }
            assert_eq!(h.finalize(), algo.hash(&data), "{algo}");
        }
        assert_eq!(
            HashAlgo::Blake3.hash(&data).as_bytes(),
            blake3::hash(&data).as_bytes()
        );
    }

    #[test]
    fn names_round_trip() {
        for algo in HashAlgo::ALL {
            assert_eq!(algo.name().parse::<HashAlgo>(), Ok(algo));
        }
        let err = "md5".parse::<HashAlgo>().expect_err("unknown");
        assert!(err.to_string().contains("\"md5\""));
    }
}
