//! Configuration with precedence: `fair serve`'s settings from flags, then
//! `FAIR_*` environment variables, then fair.toml's `[server]`, then defaults;
//! `fair config` changes a catalogue's settings after init.

use std::fs;
use std::path::Path;

use crate::helpers::*;
use crate::http::Served;

/// `fair serve ROOT --print-config EXTRA` with `env`: the effective settings.
fn effective(root: &Path, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = fair_cmd();
    cmd.args(["serve", path_str(root), "--print-config"])
        .args(extra);
    cmd.env_remove("FAIR_LISTEN").env_remove("FAIR_BASE_URL");
    cmd.env_remove("FAIR_SERVE_SOURCE")
        .env_remove("FAIR_POLL_MS");
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("fair runs");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has(settings: &str, line: &str) -> bool {
    settings.lines().any(|l| l == line)
}

#[test]
fn flag_beats_environment_beats_server_table_beats_default() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    let s = effective(&root, &[], &[]);
    assert!(has(&s, "listen = 127.0.0.1:61918  # default"), "{s}");
    assert!(has(&s, "base_url = (none)  # default"), "{s}");
    assert!(has(&s, "poll_ms = 500  # default"), "{s}");

    let mut toml = fs::read_to_string(root.join("fair.toml")).expect("read");
    toml += "\n[server]\nlisten = \"127.0.0.1:7000\"\nbase_url = \"https://file.example.org/\"\npoll_ms = 250\nserve_source = true\n";
    fs::write(root.join("fair.toml"), toml).expect("write");
    let s = effective(&root, &[], &[]);
    assert!(
        has(&s, "listen = 127.0.0.1:7000  # fair.toml [server] listen"),
        "{s}"
    );
    assert!(
        has(
            &s,
            "base_url = https://file.example.org/  # fair.toml [server] base_url"
        ),
        "{s}"
    );
    assert!(
        has(&s, "serve_source = true  # fair.toml [server] serve_source"),
        "{s}"
    );
    assert!(
        has(&s, "poll_ms = 250  # fair.toml [server] poll_ms"),
        "{s}"
    );

    let env = [
        ("FAIR_LISTEN", "127.0.0.1:7001"),
        ("FAIR_BASE_URL", "https://env.example.org/"),
        ("FAIR_POLL_MS", "100"),
        ("FAIR_SERVE_SOURCE", "false"),
    ];
    let s = effective(&root, &[], &env);
    assert!(
        has(&s, "listen = 127.0.0.1:7001  # environment FAIR_LISTEN"),
        "{s}"
    );
    assert!(
        has(
            &s,
            "base_url = https://env.example.org/  # environment FAIR_BASE_URL"
        ),
        "{s}"
    );
    assert!(
        has(&s, "serve_source = false  # environment FAIR_SERVE_SOURCE"),
        "{s}"
    );
    assert!(has(&s, "poll_ms = 100  # environment FAIR_POLL_MS"), "{s}");

    let flags = [
        "--listen",
        "127.0.0.1:7002",
        "--base-url",
        "https://flag.example.org/",
    ];
    let s = effective(
        &root,
        &[&flags[..], &["--poll-ms", "50", "--serve-source"]].concat(),
        &env,
    );
    assert!(has(&s, "listen = 127.0.0.1:7002  # flag"), "{s}");
    assert!(
        has(&s, "base_url = https://flag.example.org/  # flag"),
        "{s}"
    );
    assert!(has(&s, "serve_source = true  # flag"), "{s}");
    assert!(has(&s, "poll_ms = 50  # flag"), "{s}");

    for (name, value) in [
        ("FAIR_POLL_MS", "soon"),
        ("FAIR_BASE_URL", "ftp://x"),
        ("FAIR_SERVE_SOURCE", "yes"),
    ] {
        let out = fair_cmd()
            .args(["serve", path_str(&root)])
            .env(name, value)
            .output()
            .expect("fair runs");
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(name),
            "{}",
            describe(&out)
        );
    }
}

#[test]
fn the_server_listens_where_fair_listen_says() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    let mut cmd = fair_cmd();
    cmd.args(["serve", path_str(&root)])
        .env("FAIR_LISTEN", "127.0.0.1:0");
    let served = Served::spawn_cmd(cmd, std::process::Stdio::null());
    assert!(served.addr.starts_with("127.0.0.1:"), "{}", served.addr);
    assert!(
        !served.addr.ends_with(":61918") && !served.addr.ends_with(":0"),
        "{}",
        served.addr
    );
}

#[test]
fn fair_config_changes_the_base_url_and_extra_digests_of_a_catalogue() {
    let f = Fixture::new("blake3", &small_files(8));
    let r = path_str(&f.root);
    f.index(&[], 0);
    fair_ok(&["config", r, "--base-url", "https://fair.example.org/"], 0);
    let s = effective(&f.root, &[], &[]);
    assert!(
        has(
            &s,
            "base_url = https://fair.example.org/  # fair.toml base_url"
        ),
        "{s}"
    );
    let out = fair_ok(&["config", r], 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("base_url = \"https://fair.example.org/\""),
        "{}",
        describe(&out)
    );

    // Adding a digest: the next index reads every file again, then none.
    let again = f.index(&[], 0);
    assert_eq!(again["hashed"], 0, "{again}");
    let out = fair_ok(&["config", r, "--extra-digest", "sha256", "--json"], 0);
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(config["extra_digests"], serde_json::json!(["sha256"]));
    assert_eq!(config["base_url"], "https://fair.example.org/");
    let rehashed = f.index(&[], 0);
    assert_eq!(rehashed["hashed"], 8, "{rehashed}");
    assert_eq!(f.index(&[], 0)["hashed"], 0);

    let out = fair_ok(&["config", r, "--extra-digest", "sha1"], 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sha1"),
        "{}",
        describe(&out)
    );
    let out = fair_ok(&["config", r, "--base-url", "ftp://x"], 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("http"),
        "{}",
        describe(&out)
    );
}
