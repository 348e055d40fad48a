//! A served catalogue (`fair serve` as a child process on a free port) and a raw
//! HTTP/1.1 client that sends request targets exactly as given (no normalisation
//! of `..`, `//` or percent-encodings), as the golden transcript was recorded;
//! [`Answers`], what tests ask of a served catalogue, here or in this process
//! (`inproc`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::helpers::{fair_cmd, path_str};

/// `fair serve DIR` on a free port, stopped (SIGKILL) when dropped.
pub struct Served {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Served {
    /// Starts `fair serve dir` with a fast poll and waits until it listens.
    pub fn start(dir: &Path) -> Served {
        let args = [
            "serve",
            path_str(dir),
            "--listen",
            "127.0.0.1:0",
            "--poll-ms",
            "100",
        ];
        Served::spawn(&args, Stdio::null())
    }

    /// Starts `fair serve dir` on a free port with its own address as base URL
    /// (the downloaders need one before it starts), with `--serve-source` when
    /// `sources`.
    pub fn with_base_url(dir: &Path, sources: bool) -> Served {
        let port = crate::helpers::free_port();
        let listen = format!("127.0.0.1:{port}");
        let base = format!("http://{listen}/");
        let mut args = vec!["serve", path_str(dir), "--listen", &listen];
        args.extend(["--base-url", &base]);
        if sources {
            args.push("--serve-source");
        }
        Served::spawn(&args, Stdio::null())
    }

    /// Runs `fair ARGS`, a command that ends up serving, and waits until it listens
    /// (prints `on http://ADDR/` on stderr).
    pub fn spawn(args: &[&str], stdout: Stdio) -> Served {
        let mut cmd = fair_cmd();
        cmd.args(args);
        Served::spawn_cmd(cmd, stdout)
    }

    /// Runs `cmd`, a `fair` command that ends up serving, and waits until it listens.
    pub fn spawn_cmd(mut cmd: std::process::Command, stdout: Stdio) -> Served {
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(stdout)
            .spawn()
            .expect("fair starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("fair prints the address it serves on")
                .expect("line");
            if let Some(rest) = line.split("on http://").nth(1) {
                break rest.trim_end_matches('/').to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Served { child, addr }
    }

    /// The child's stdout, if it was piped (once).
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end; its exit status.
    pub fn wait(mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait")
    }
}

/// A served catalogue: where requests go, and their answers.
pub trait Answers {
    /// The `host:port` requests name (and URLs the server makes start with).
    fn addr(&self) -> &str;

    /// Sends one request, its target exactly as given.
    fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response;

    /// GET `target`.
    fn get(&self, target: &str) -> Response {
        self.request("GET", target, &[])
    }
}

impl Answers for Served {
    fn addr(&self) -> &str {
        &self.addr
    }

    fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        request(&self.addr, method, target, headers)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (names lowercase), body (de-chunked).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `method target` with `headers` and `Connection: close`, reads the answer.
pub fn request(addr: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send");
    let mut raw = Vec::new();
    // The server may close first on errors; what was read is the answer.
    let _ = stream.read_to_end(&mut raw);
    parse(&raw, method == "HEAD")
}

/// GETs each of `targets` in turn on one keep-alive connection (each answer,
/// sized by its `Content-Length`, read whole before the next request).
pub fn one_after_another(addr: &str, targets: &[String]) -> Vec<Response> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut raw = Vec::new();
    let mut chunk = [0; 64 << 10];
    let mut read = |raw: &mut Vec<u8>, stream: &mut TcpStream| {
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "the server closed the connection");
        raw.extend_from_slice(&chunk[..n]);
    };
    let mut answers = Vec::new();
    for target in targets {
        let head = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        stream.write_all(head.as_bytes()).expect("send");
        let end = loop {
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            read(&mut raw, &mut stream);
        };
        let length = parse(&raw[..end], true)
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .expect("a Content-Length");
        while raw.len() < end + length {
            read(&mut raw, &mut stream);
        }
        let rest = raw.split_off(end + length);
        answers.push(parse(&raw, false));
        raw = rest;
    }
    answers
}

fn parse(raw: &[u8], head: bool) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked && !head {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..line_end]).trim(), 16)
            .expect("hex size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
}
