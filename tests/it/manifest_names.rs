//! Manifests of keys made of random characters (seeded): every format is read by
//! its real tool, which must find or save every key exactly, or is refused before
//! its first byte (HTTP 400, `fair manifest` exit 1 with nothing on stdout).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::helpers::{describe, fair, index_and_snapshot, init_with, path_str, tree, write_tree};
use crate::http::{Answers, Served};

/// The characters of the non-ASCII part of the alphabet (U+FFFD is b3sum's, and
/// refused by that format alone: see the unit tests).
const WIDE: [char; 6] = ['ü', 'ß', '€', '\u{a0}', '😀', '\u{2028}'];

/// A seeded generator (splitmix64).
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        usize::try_from((z ^ (z >> 31)) % n as u64).expect("fits")
    }
}

/// `n` distinct keys of one or two segments drawn from `alphabet`, no key a
/// directory of another, no segment `.` or `..`; `fixed` added as they are.
fn keys(seed: u64, n: usize, alphabet: &[char], fixed: &[&str]) -> Vec<String> {
    let mut random = Seeded(seed);
    let segment = |random: &mut Seeded| -> String {
        let len = 1 + random.below(6);
        (0..len)
            .map(|_| alphabet[random.below(alphabet.len())])
            .collect()
    };
    let mut keys: BTreeSet<String> = fixed.iter().map(|k| k.to_string()).collect();
    let mut dirs = BTreeSet::new();
    while keys.len() < n + fixed.len() {
        let mut parts = vec![segment(&mut random)];
        if random.below(3) == 0 {
            parts.insert(0, segment(&mut random));
        }
        if parts.iter().any(|p| p == "." || p == "..") {
            continue;
        }
        let key = parts.join("/");
        let dir = (parts.len() == 2).then(|| parts[0].clone());
        if keys.contains(&key)
            || dirs.contains(&key)
            || dir.as_ref().is_some_and(|d| keys.contains(d))
        {
            continue;
        }
        dirs.extend(dir);
        keys.insert(key);
    }
    keys.into_iter().collect()
}

/// Runs `command` in `dir`; asserts it succeeded.
fn run(name: &str, command: &mut Command, dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let out = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{name} runs: {e}"));
    assert!(out.status.success(), "{name}\n{}", describe(&out));
}

/// A blake3 catalogue with extra SHA-256 digests holding `keys` (each file's
/// bytes its index), served with `--serve-source` on a free port; returns the
/// server, the distribution's checksum and the files.
fn served(dir: &Path, keys: &[String]) -> (Served, String, BTreeMap<String, Vec<u8>>) {
    let root = init_with(dir, &["--extra-digest", "sha256"]);
    let source = dir.join("source");
    let files: Vec<(String, Vec<u8>)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), format!("file {i}\n").into_bytes()))
        .collect();
    write_tree(&source, &files);
    let checksum = index_and_snapshot(&root, &source, "1");
    let served = Served::with_base_url(&root, true);
    // The command refuses exactly as the server does.
    let out = fair(&["manifest", path_str(&root), &checksum, "--format", "rsync"]);
    if out.status.code() == Some(1) {
        assert!(out.stdout.is_empty(), "nothing written: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("rsync manifest format cannot carry"),
            "{stderr}"
        );
        assert!(stderr.contains("key \""), "the key, quoted: {stderr}");
    } else {
        assert!(out.status.success(), "{}", describe(&out));
    }
    (served, checksum, files.into_iter().collect())
}

/// Asks `served` for every manifest of `checksum` and has each read by its tool
/// in a directory under `work`; `source` is the tree the keys were indexed from.
/// Returns the formats refused.
fn every_format(
    served: &Served,
    checksum: &str,
    files: &BTreeMap<String, Vec<u8>>,
    work: &Path,
) -> Vec<&'static str> {
    let source = work.join("source");
    let mut refused = Vec::new();
    for format in [
        "urls",
        "wget",
        "aria2",
        "metalink",
        "b3sum",
        "sha256sum",
        "rsync",
        "bagit",
    ] {
        let got = served.get(&format!("/machine/manifest/{checksum}?format={format}"));
        if got.status == 400 {
            let text = got.text();
            assert!(text.contains("cannot carry"), "{format}: {text}");
            refused.push(format);
            continue;
        }
        assert_eq!(got.status, 200, "{format}: {}", got.text());
        let list = work.join(format!("list.{format}"));
        std::fs::write(&list, &got.body).expect("write");
        let out = work.join(format);
        match format {
            "urls" => assert_eq!(got.text().lines().count(), files.len(), "{format}"),
            "wget" => run(
                format,
                Command::new("wget")
                    .args(["-q", "-x", "-nH", "--cut-dirs=2"])
                    .arg("--restrict-file-names=nocontrol")
                    .arg("-i")
                    .arg(&list),
                &out,
            ),
            "aria2" => run(
                format,
                Command::new("aria2c").args(["-q", "-i"]).arg(&list),
                &out,
            ),
            "metalink"
                if files
                    .keys()
                    .any(|k| k.contains(|c: char| c.is_ascii_control())) =>
            {
                // aria2c -M refuses control characters in names itself ("Bad
                // file@name", exit 20) rather than saving another name; an XML
                // reader finds every name exactly.
                let status = Command::new("aria2c")
                    .args(["-q", "-M"])
                    .arg(&list)
                    .current_dir(work)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .expect("aria2c runs");
                assert!(!status.success(), "aria2c -M took control characters");
                assert_eq!(
                    xml_names(&list),
                    files.keys().cloned().collect::<BTreeSet<_>>()
                );
                continue;
            }
            "metalink" => run(
                format,
                Command::new("aria2c").args(["-q", "-M"]).arg(&list),
                &out,
            ),
            "b3sum" | "sha256sum" => {
                run(format, Command::new(format).arg("-c").arg(&list), &source)
            }
            "rsync" => run(
                format,
                Command::new("rsync")
                    .arg("-a")
                    .arg(format!("--files-from={}", path_str(&list)))
                    .arg(format!("{}/", path_str(&source)))
                    .arg(&out),
                work,
            ),
            "bagit" => {
                // fetch.txt: URL LENGTH data/PATH, the path percent-encoded
                // (RFC 8493 §2.2.3).
                let paths: BTreeSet<String> = got
                    .text()
                    .lines()
                    .map(|l| {
                        let path = l.splitn(3, ' ').nth(2).expect("three fields");
                        let path = path.strip_prefix("data/").expect("data/");
                        path.replace("%0A", "\n")
                            .replace("%0D", "\r")
                            .replace("%25", "%")
                    })
                    .collect();
                assert_eq!(paths, files.keys().cloned().collect(), "{format}");
            }
            _ => unreachable!(),
        }
        if matches!(format, "wget" | "aria2" | "rsync") {
            assert_eq!(&tree(&out), files, "{format} saved every key exactly");
        }
        if format == "metalink" {
            // aria2c reads the Metalink with libxml2, which hands an `&` of an
            // attribute (`&amp;`) over as `&#38;`: aria2c saves that name (the
            // README says so; the aria2 format carries `&`). An XML reader
            // finds every name exactly.
            let saved: BTreeMap<String, Vec<u8>> = files
                .iter()
                .map(|(k, v)| (k.replace('&', "&#38;"), v.clone()))
                .collect();
            assert_eq!(tree(&out), saved, "{format} saved every key");
            assert_eq!(xml_names(&list), files.keys().cloned().collect());
        }
    }
    refused
}

/// The `name` of every `<file>` of a Metalink, as Python's XML parser reads it.
fn xml_names(metalink: &Path) -> BTreeSet<String> {
    let script = "import json, sys, xml.etree.ElementTree as E\n\
        ns = '{urn:ietf:params:xml:ns:metalink}'\n\
        root = E.parse(sys.argv[1]).getroot()\n\
        print(json.dumps([f.get('name') for f in root.iter(ns + 'file')]))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(metalink)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", describe(&out));
    serde_json::from_slice::<Vec<String>>(&out.stdout)
        .expect("JSON")
        .into_iter()
        .collect()
}

/// All of 0x01–0x7F but `/` (a separator in a key), and some non-ASCII.
fn full_alphabet() -> Vec<char> {
    (1u8..=0x7F)
        .filter(|&b| b != b'/')
        .map(char::from)
        .chain(WIDE)
        .collect()
}

#[test]
fn manifests_of_random_keys_are_read_exactly_by_their_tools_or_refused() {
    // Keys with any character: the formats with escapes carry them all; aria2
    // input and rsync lines cannot carry a line break, and are refused.
    let tmp = tempfile::tempdir().expect("tempdir");
    let fixed = [
        "Icon\r",
        "tab\tx",
        "lf\nx",
        "back\\slash",
        " lead",
        "trail ",
    ];
    let keys = keys(0x5EED, 40, &full_alphabet(), &fixed);
    let (served, checksum, files) = served(tmp.path(), &keys);
    let refused = every_format(&served, &checksum, &files, tmp.path());
    assert!(refused.contains(&"aria2"), "{refused:?}");
    assert!(refused.contains(&"rsync"), "{refused:?}");
    for format in ["urls", "wget", "b3sum", "sha256sum", "bagit"] {
        assert!(!refused.contains(&format), "{format} carries every key");
    }
}

#[test]
fn manifests_of_random_printable_keys_are_read_exactly_by_every_tool() {
    // Printable keys, blanks and `#`, `;`, `-`, `\`, `&` anywhere but at the ends.
    let tmp = tempfile::tempdir().expect("tempdir");
    let alphabet: Vec<char> = (0x20u8..0x7F)
        .filter(|&b| b != b'/')
        .map(char::from)
        .chain(WIDE)
        .collect();
    let fixed = ["#hash", ";semi", "-dash x", "a b/-c d", "x\\y"];
    let keys: Vec<String> = keys(0xF00D, 40, &alphabet, &fixed)
        .into_iter()
        .filter(|k| !k.starts_with(' ') && !k.ends_with(' '))
        .collect();
    let (served, checksum, files) = served(tmp.path(), &keys);
    let refused = every_format(&served, &checksum, &files, tmp.path());
    assert!(refused.is_empty(), "{refused:?}");
}
