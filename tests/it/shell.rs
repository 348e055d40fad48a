//! `fair completions` and `fair man`: a completion script bash loads and
//! completes with, and a manual page man renders.

use std::process::Command;

use crate::helpers::*;

#[test]
fn bash_completes_subcommands_and_flags_with_the_script() {
    let script = fair_ok(&["completions", "bash"], 0).stdout;
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("fair.bash");
    std::fs::write(&path, script).expect("write");
    let complete = |words: &str| {
        let program = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             complete -p fair >/dev/null && _fair fair \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path_str(&path)
        );
        let out = Command::new("bash")
            .args(["-c", &program])
            .output()
            .expect("bash");
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subcommands = complete("fair up");
    assert_eq!(subcommands.trim(), "update", "{subcommands}");
    let flags = complete("fair index /srv --ex");
    assert_eq!(flags.trim(), "--exclude", "{flags}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(
            !fair_ok(&["completions", shell], 0).stdout.is_empty(),
            "{shell}"
        );
    }
    fair_ok(&["completions", "tcsh"], 1);
}

#[test]
fn the_man_page_renders() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let page = tmp.path().join("fair.1");
    std::fs::write(&page, fair_ok(&["man"], 0).stdout).expect("write");
    let out = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .expect("man runs");
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "fair - fair: a FAIR dataset catalogue",
        "fair update",
        "--exclude",
        "Exit codes",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
}
