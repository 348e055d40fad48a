//! Output for unattended runs: `-q` prints nothing on success, colour only on a
//! terminal without `NO_COLOR`, and `--log-format json` for services.

use std::process::Command;

use crate::helpers::*;

/// Runs `fair -q ARGS`, expecting exit 0 and nothing on stderr; returns stdout.
fn quiet(args: &[&str]) -> String {
    let out = fair_ok(&[&["-q"][..], args].concat(), 0);
    assert!(
        out.stderr.is_empty(),
        "fair -q {args:?}\n{}",
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn quiet_prints_nothing_on_success() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    write_tree(&source, &small_files(20));
    let root = tmp.path().join("catalogue");
    let (r, s) = (path_str(&root), path_str(&source));
    for args in [
        &["init", r][..],
        &["index", r, "--source", s, "--collection", "c"],
        &["snapshot", r, "d", "c", "--date", "today", "--if-changed"],
        &["snapshot", r, "d", "c", "--date", "today", "--if-changed"],
        &["snapshot", r, "d", "c", "--version", "2"],
        &["reindex", r],
        &["verify", r],
    ] {
        assert_eq!(quiet(args), "", "fair -q {args:?}: nothing on stdout");
    }
    // Results asked for are still printed, without the notes about them.
    assert!(quiet(&["manifest", r, "d@latest", "--format", "b3sum"]).contains("f00001.txt"));
    assert!(quiet(&["diff", r, "d@2", "d@latest"]).is_empty());
    let checksum = quiet(&["find", r, "d", "--checksum"]);
    let record = quiet(&["find", r, "d", "--json"]);
    assert_eq!(record.lines().count(), 1, "{record}");
    let record: serde_json::Value = serde_json::from_str(&record).expect("JSON");
    assert_eq!(record["checksum"].as_str(), Some(checksum.trim()));
    // Without -q, the same runs do say what they did.
    let out = fair_ok(
        &["snapshot", r, "d", "c", "--version", "2", "--if-changed"],
        0,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unchanged"),
        "{}",
        describe(&out)
    );
}

/// `cmd` without the environment that decides logging and colour.
fn plain_env(mut cmd: Command) -> Command {
    cmd.env_remove("RUST_LOG").env_remove("NO_COLOR");
    cmd
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    let f = Fixture::new("blake3", &small_files(5));
    let mut args = vec!["-v"];
    args.extend(f.index_args());

    // A pipe: the log is there, without escapes.
    let out = plain_env(fair_cmd()).args(&args).output().expect("fair");
    let piped = String::from_utf8_lossy(&out.stderr);
    assert!(piped.contains("INFO"), "{piped}");
    assert!(!piped.contains('\x1b'), "ANSI on a pipe: {piped:?}");
    assert!(has_colour("\x1b[2mdim\x1b[0m") && !has_colour("\x1b[2K"));

    // A terminal (script(1) gives the command a pseudo-terminal): coloured, unless NO_COLOR.
    let line = std::iter::once(env!("CARGO_BIN_EXE_fair"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let on_terminal = |no_color: Option<&str>| {
        let mut cmd = plain_env(Command::new("script"));
        cmd.args(["-qec", &line, "/dev/null"]);
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().expect("script runs");
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_terminal(None);
    assert!(
        coloured.contains("INFO") && has_colour(&coloured),
        "{coloured:?}"
    );
    let plain = on_terminal(Some("1"));
    assert!(plain.contains("INFO") && !has_colour(&plain), "{plain:?}");
}

/// Whether `text` holds an ANSI colour (SGR) sequence: ESC [ digits and ; then m
/// (a progress bar's line clearing, ESC [ 2 K, is no colour).
fn has_colour(text: &str) -> bool {
    text.split('\x1b').skip(1).any(|after| {
        after.strip_prefix('[').is_some_and(|params| {
            let end = params.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';');
            end.starts_with('m')
        })
    })
}

#[test]
fn json_log_format_writes_one_object_a_line() {
    let f = Fixture::new("blake3", &small_files(5));
    fair_ok(&f.index_args(), 0);
    let r = path_str(&f.root);
    fair_ok(&["snapshot", r, "d", "c", "--version", "1"], 0);
    let again = ["snapshot", r, "d", "c", "--version", "1", "--if-changed"];
    let out = fair_ok(&[&["--log-format", "json"][..], &again].concat(), 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let unchanged = events
        .iter()
        .find(|e| {
            e["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("unchanged"))
        })
        .unwrap_or_else(|| panic!("the note as an event: {stderr}"));
    assert_eq!(unchanged["level"], "INFO");
    assert!(unchanged["timestamp"].is_string());
    // -q silences the events as it does the lines.
    let out = fair_ok(&[&["-q", "--log-format", "json"][..], &again].concat(), 0);
    assert!(out.stderr.is_empty(), "{}", describe(&out));
}
