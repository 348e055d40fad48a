//! `deploy/systemd/`: the units pass `systemd-analyze verify`, with the real
//! `fair` at /usr/local/bin/fair of a scratch root holding the system's units
//! (no systemd as PID 1 needed).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::helpers::*;

/// The files of `deploy/systemd/`.
fn units() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/systemd");
    let mut units: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("deploy/systemd")
        .map(|e| e.expect("entry").path())
        .collect();
    units.sort();
    units
}

/// A root for `systemd-analyze --root`: the system's units, `fair` at
/// /usr/local/bin/fair, and `units` (name, text) in /etc/systemd/system/.
fn scratch_root(root: &Path, units: &[(String, String)]) -> Vec<PathBuf> {
    let system = root.join("usr/lib/systemd/system");
    fs::create_dir_all(&system).expect("mkdir");
    for entry in fs::read_dir("/usr/lib/systemd/system").expect("the system's units") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            fs::copy(entry.path(), system.join(entry.file_name())).expect("copy unit");
        }
    }
    let bin = root.join("usr/local/bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let fair = Path::new(env!("CARGO_BIN_EXE_fair"));
    if fs::hard_link(fair, bin.join("fair")).is_err() {
        fs::copy(fair, bin.join("fair")).expect("copy fair");
    }
    let etc = root.join("etc/systemd/system");
    fs::create_dir_all(&etc).expect("mkdir");
    units
        .iter()
        .map(|(name, text)| {
            let path = etc.join(name);
            fs::write(&path, text).expect("write unit");
            path
        })
        .collect()
}

fn verify(root: &Path, units: &[PathBuf]) -> Output {
    Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--root"])
        .arg(root)
        .args(units)
        .output()
        .expect("systemd-analyze runs (Debian package systemd)")
}

#[test]
fn the_systemd_units_verify() {
    let texts: Vec<(String, String)> = units()
        .iter()
        .map(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).expect("name");
            (name.to_string(), fs::read_to_string(p).expect("read"))
        })
        .collect();
    let names: Vec<&str> = texts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "fair-serve.service",
            "fair-update.service",
            "fair-update.timer"
        ]
    );
    for (name, text) in &texts {
        if name.ends_with(".service") {
            assert!(text.contains("ExecStart=/usr/local/bin/fair "), "{name}");
            assert!(
                text.contains("User=fair") && text.contains("ProtectSystem=strict"),
                "{name}"
            );
            assert!(text.contains("ReadWritePaths=/srv/fair"), "{name}");
        }
    }

    let tmp = tempfile::tempdir().expect("tempdir");
    let paths = scratch_root(tmp.path(), &texts);
    let out = verify(tmp.path(), &paths);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        describe(&out)
    );

    // The check can fail: a misspelt setting is reported.
    let broken: Vec<(String, String)> = texts
        .iter()
        .map(|(n, t)| {
            (
                n.clone(),
                t.replace("ProtectSystem=strict", "ProtectSystem=sometimes"),
            )
        })
        .collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    let paths = scratch_root(tmp.path(), &broken);
    let out = verify(tmp.path(), &paths);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fair-serve.service:") && stderr.contains("sometimes"),
        "{stderr}"
    );
}
