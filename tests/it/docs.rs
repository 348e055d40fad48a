//! Every command line of `README.md` and `docs/*.md`, run, so the documentation
//! cannot drift from the program.
//!
//! The convention (also in `docs/architecture.md`, "Documentation that runs"):
//! - A ```` ```sh ```` block holds commands, which are run; ```` ```sh no-run ````
//!   holds commands for another machine or that take hours (`systemctl`,
//!   benchmarks, `cargo install`), listed and counted, not run. Output goes in
//!   ```` ```text ```` blocks; other languages (`toml`, `json`, ...) are not run.
//!   A fence without a language, or a shell language other than `sh` (`bash`,
//!   `console`, ...), is refused, so that no command escapes the test by its fence.
//! - A command is a line, with the lines that follow it when it ends with `\` or
//!   opens a here-document (`<<'EOF'` up to `EOF`); comment lines are skipped.
//! - Every command must exit 0, or N when its line says `# exit N`.
//! - A command ending with `&` (a server) runs in the background; the next
//!   command runs once the port it listens on accepts connections, and it must
//!   be stopped (`kill %1`) before another one starts.
//! - The blocks of one file run in order, in one shell (variables carry over),
//!   in a new directory holding `mirror/pdb/` (a 40-entry PDB-shaped mirror,
//!   `fixtures/pdb/mirror.rs`), `fixtures/` and `deploy/` (the repository's), with `fair`
//!   first on `PATH`, `HOME` that directory, `curl` failing on HTTP errors
//!   (`~/.curlrc`), and the server's default port, 61918, replaced by a free
//!   one (in the commands and as `FAIR_LISTEN`), since tests run side by side.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::actions::mirror;
use crate::helpers::free_port;

/// The port the documentation's servers listen on, replaced when they run.
const DOC_PORT: &str = "61918";

/// How long one file's commands may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A command of a documentation file.
#[derive(Debug, Clone, PartialEq)]
struct DocCommand {
    /// The line it starts on (1-based).
    line: usize,
    /// Its text, continuation and here-document lines included.
    text: String,
    /// Whether it is run (a `sh` block) or only listed (`sh no-run`).
    run: bool,
    /// The exit code its line announces (`# exit N`), else 0.
    exit: i32,
    /// Whether it ends with `&`: a server, run in the background.
    background: bool,
}

/// The commands of a Markdown text, in order; an error names the line of a
/// fence the convention refuses or of a block left open.
fn commands(markdown: &str) -> Result<Vec<DocCommand>, String> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // A fence's info string holds no backquote (CommonMark): ```` ```sh ```` in
        // a sentence is not one.
        let Some(info) = lines[i]
            .trim_start()
            .strip_prefix("```")
            .filter(|info| !info.contains('`'))
        else {
            i += 1;
            continue;
        };
        let fence = i + 1;
        let run = match info.trim() {
            "sh" => Some(true),
            "sh no-run" => Some(false),
            "" => return Err(format!("line {fence}: a fence without a language")),
            "bash" | "shell" | "console" | "zsh" | "shell-session" => {
                return Err(format!(
                    "line {fence}: ```{info}: shell commands go in ```sh (run by the tests) or ```sh no-run"
                ));
            }
            _ => None,
        };
        let end = (fence..lines.len())
            .find(|&j| lines[j].trim() == "```")
            .ok_or_else(|| format!("line {fence}: a block never closed"))?;
        if let Some(run) = run {
            out.extend(block_commands(&lines[fence..end], fence + 1, run)?);
        }
        i = end + 1;
    }
    Ok(out)
}

/// The commands of a shell block whose first line is line `first`.
fn block_commands(lines: &[&str], first: usize, run: bool) -> Result<Vec<DocCommand>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        let head = lines[i];
        i += 1;
        if head.trim().is_empty() || head.trim_start().starts_with('#') {
            continue;
        }
        let mut text = head.to_string();
        while text.ends_with('\\') && i < lines.len() {
            text.push('\n');
            text.push_str(lines[i]);
            i += 1;
        }
        if let Some(word) = heredoc_word(&text) {
            loop {
                let Some(body) = lines.get(i) else {
                    return Err(format!(
                        "line {}: here-document {word} never ends",
                        first + start
                    ));
                };
                text.push('\n');
                text.push_str(body);
                i += 1;
                if body.trim() == word {
                    break;
                }
            }
        }
        let exit = expected_exit(head)
            .map_err(|e| format!("line {}: {e}", first + start))?
            .unwrap_or(0);
        out.push(DocCommand {
            line: first + start,
            background: runs_in_background(head),
            text,
            run,
            exit,
        });
    }
    Ok(out)
}

/// The word ending the here-document a command line opens (`<<'EOF'`,
/// `<<"EOF"`, `<<EOF`, `<<-EOF`), if any.
fn heredoc_word(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("<<")?;
    let rest = rest.trim_start_matches('-').trim_start();
    let word: String = rest
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// The code after `# exit ` in a command line, if it says one.
fn expected_exit(line: &str) -> Result<Option<i32>, String> {
    let Some((_, said)) = line.split_once("# exit ") else {
        return Ok(None);
    };
    let digits: String = said.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .map(Some)
        .map_err(|_| format!("`# exit {said}`: expected an exit code"))
}

/// Whether a command line ends with `&` (not `&&`), before any comment.
fn runs_in_background(line: &str) -> bool {
    let code = line.split(" #").next().unwrap_or(line).trim_end();
    code.ends_with('&') && !code.ends_with("&&")
}

/// The bash program that runs `commands` in order, each checked against its
/// exit code, servers on `port`; a failure exits 101 naming `file` and the line.
fn program(file: &str, commands: &[DocCommand], port: u16) -> String {
    let mut script = format!(
        r#"set -uo pipefail
trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT
__listening() {{ (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; }}
__fail() {{ printf '\n@@ %s: %s\n' "$1" "$2" >&2; exit 101; }}
"#
    );
    for c in commands.iter().filter(|c| c.run) {
        let at = format!("{file}:{}", c.line);
        let text = c.text.replace(DOC_PORT, &port.to_string());
        let _ = writeln!(script, "printf '\\n@@ %s\\n' '{at}' >&2");
        if c.background {
            let _ = writeln!(
                script,
                "for _ in $(seq 100); do __listening || break; sleep 0.05; done\n\
                 __listening && __fail '{at}' 'a server still listens: stop the previous one (kill %1)'\n\
                 {{ {text}\n}}\n\
                 for _ in $(seq 400); do __listening && break; sleep 0.05; done\n\
                 __listening || __fail '{at}' 'the server does not listen after 20 s'"
            );
        } else {
            let _ = writeln!(
                script,
                "{{ {text}\n}}\n__rc=$?; [ \"$__rc\" -eq {exit} ] || __fail '{at}' \"exit $__rc, expected {exit}\"",
                exit = c.exit
            );
        }
    }
    script
}

/// A new directory as the documentation's commands expect it: `mirror/pdb/`,
/// `fixtures/` and `deploy/` (the repository's), and a `.curlrc` that makes
/// curl fail on HTTP errors.
fn scratch() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    mirror::generate(&tmp.path().join("mirror/pdb"), 40).expect("mirror");
    std::os::unix::fs::symlink(repository().join("fixtures"), tmp.path().join("fixtures"))
        .expect("fixtures link");
    std::os::unix::fs::symlink(repository().join("deploy"), tmp.path().join("deploy"))
        .expect("deploy link");
    fs::write(tmp.path().join(".curlrc"), "--fail\n--show-error\n").expect(".curlrc");
    tmp
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the commands of `file` (named so in messages) in a new scratch
/// directory: `Err` holds what failed and the end of the output.
fn run(file: &str, commands: &[DocCommand]) -> Result<(), String> {
    let dir = scratch();
    let port = free_port();
    let script = dir.path().join(".docs.sh");
    let log = dir.path().join(".docs.log");
    fs::write(&script, program(file, commands, port)).expect("script");
    let fair = PathBuf::from(env!("CARGO_BIN_EXE_fair"));
    let bin = fair.parent().expect("the binary's directory");
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let output = fs::File::create(&log).expect("log");
    let mut child = Command::new("bash")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("FAIR_LISTEN", format!("127.0.0.1:{port}"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("CURL_HOME")
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("log"))
        .stderr(output)
        .process_group(0)
        .spawn()
        .expect("bash runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if status.is_some_and(|s| s.success()) {
        return Ok(());
    }
    let text = fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(40).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    let why = match status {
        None => format!("{file}: timed out after {TIMEOUT:?}"),
        Some(_) => text
            .lines()
            .rfind(|l| l.starts_with("@@ "))
            .unwrap_or("@@ ?")
            .trim_start_matches("@@ ")
            .to_string(),
    };
    Err(format!("{why}\n--- last output:\n{}", tail.join("\n")))
}

/// `README.md` and every `docs/*.md`, by name relative to the repository.
fn documentation() -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(repository().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    files.sort();
    files.insert(0, "README.md".into());
    files
}

fn read(file: &str) -> String {
    fs::read_to_string(repository().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// What running one documentation file gave.
#[derive(Debug)]
struct FileRun {
    /// How many of its commands ran.
    ran: usize,
    /// Its `sh no-run` commands, as `FILE:LINE: COMMAND`.
    not_run: Vec<String>,
    /// What failed, if anything.
    result: Result<(), String>,
}

/// Parses `file` and runs its commands.
fn run_file(file: &str) -> FileRun {
    let commands = commands(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    FileRun {
        ran: commands.iter().filter(|c| c.run).count(),
        not_run: commands
            .iter()
            .filter(|c| !c.run)
            .map(|c| format!("{file}:{}: {}", c.line, c.text))
            .collect(),
        result: run(file, &commands),
    }
}

#[test]
fn every_command_line_of_the_readme_and_docs_runs() {
    let files = documentation();
    let runs: Vec<FileRun> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|file| scope.spawn(move || run_file(file)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a file's run"))
            .collect()
    });
    let mut failures = Vec::new();
    let (mut ran, mut listed) = (0, 0);
    for (file, run) in files.iter().zip(runs) {
        eprintln!(
            "{file}: {} commands run, {} not run",
            run.ran,
            run.not_run.len()
        );
        for line in &run.not_run {
            eprintln!("  not run: {line}");
        }
        ran += run.ran;
        listed += run.not_run.len();
        if let Err(e) = run.result {
            failures.push(e);
        }
    }
    eprintln!("{ran} commands run, {listed} not run");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        ran >= 100,
        "only {ran} commands found: is the convention followed?"
    );
}

#[test]
fn a_broken_command_fails_naming_its_file_and_line() {
    let doc = "# Doc\n\n```sh\nfair init catalogue\nfair index catalogue --source nowhere --collection x\n```\n";
    let failed = run("broken.md", &commands(doc).expect("parses")).expect_err("it must fail");
    assert!(
        failed.starts_with("broken.md:5: exit 1, expected 0"),
        "{failed}"
    );
    assert!(
        failed.contains("nowhere"),
        "the command's own message: {failed}"
    );
    let announced = doc.replace("--collection x", "--collection x  # exit 1: no source");
    run("announced.md", &commands(&announced).expect("parses")).expect("an announced exit");
    let wrong = doc.replace("--collection x", "--collection x  # exit 2");
    let failed = run("wrong.md", &commands(&wrong).expect("parses")).expect_err("exit 1, not 2");
    assert!(
        failed.starts_with("wrong.md:5: exit 1, expected 2"),
        "{failed}"
    );
}

#[test]
fn servers_run_in_the_background_on_a_free_port_and_must_be_stopped() {
    let doc = "```sh\nfair init catalogue\nfair serve catalogue &\ncurl -s http://127.0.0.1:61918/health\ncurl -s http://127.0.0.1:61918/nothing-here   # exit 22\nkill %1\nfair serve catalogue &\nkill %1\n```\n";
    run("served.md", &commands(doc).expect("parses")).expect("served and stopped");
    let twice = doc.replace("kill %1\nfair serve", "fair serve");
    let failed = run("twice.md", &commands(&twice).expect("parses")).expect_err("still served");
    assert!(
        failed.starts_with("twice.md:6: a server still listens"),
        "{failed}"
    );
}

#[test]
fn blocks_are_split_into_commands_by_the_convention() {
    let doc = "```sh\n# a comment\nfair init c \\\n  --hash sha3-256\ncat > f <<'EOF'\na\n# not a comment\nEOF\nfair serve c &   # in the background\nfair find c d   # exit 1: none\n```\n\n```text\nfair not-a-command\n```\n\n```sh no-run\nsystemctl start fair-update\n```\n";
    let found = commands(doc).expect("parses");
    let summary: Vec<(usize, &str, bool, i32, bool)> = found
        .iter()
        .map(|c| (c.line, c.text.as_str(), c.run, c.exit, c.background))
        .collect();
    assert_eq!(
        summary,
        [
            (3, "fair init c \\\n  --hash sha3-256", true, 0, false),
            (
                5,
                "cat > f <<'EOF'\na\n# not a comment\nEOF",
                true,
                0,
                false
            ),
            (9, "fair serve c &   # in the background", true, 0, true),
            (10, "fair find c d   # exit 1: none", true, 1, false),
            (18, "systemctl start fair-update", false, 0, false),
        ]
    );
    for fence in [
        "```\nls\n```\n",
        "```bash\nls\n```\n",
        "```console\n$ ls\n```\n",
    ] {
        assert!(commands(fence).is_err(), "{fence}");
    }
    assert!(commands("```sh\nls\n").is_err(), "a block never closed");
    assert_eq!(
        commands("Put them in\n```` ```sh ```` blocks.\n"),
        Ok(vec![]),
        "a fence quoted in a sentence"
    );
    assert!(
        commands("```sh\ncat <<EOF\nx\n```\n").is_err(),
        "a here-document never ended"
    );
}

#[test]
fn the_readme_stays_short_and_its_test_command_is_the_one_ci_runs() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: move details to docs/"
    );
    let ci = read(".ci/run");
    let documented: Vec<DocCommand> = commands(&readme)
        .expect("parses")
        .into_iter()
        .filter(|c| c.text.starts_with("cargo test"))
        .collect();
    assert_eq!(documented.len(), 1, "one test command in the README");
    let command = documented[0]
        .text
        .split(" #")
        .next()
        .unwrap_or_default()
        .trim();
    assert!(
        ci.lines().any(|l| l.starts_with(command)),
        "`.ci/run` runs the README's `{command}`"
    );
}
