//! `fair serve` under load: wrk (Debian's) with 64 connections against the
//! release binary, on a catalogue whose access index holds 1,000,000 elements.
//!
//! Throughput of `find_distribution`, `access` (a random element per request) and
//! `keyorder` (a 1,000-key distribution's) as ratios of the same server's
//! `/health`, measured in the same run (target: each at least 0.5); the server's
//! RSS after at least 100,000 random access lookups (target: under 100 MB).
//! Then downloads one after another on one keep-alive connection, as a bulk
//! downloader makes them: 200 `GET /buffers/ELEMENT` and 200 `GET
//! /files/ELEMENT/KEY` of a 16 KiB interned buffer, and 200 `GET
//! /files/ELEMENT/KEY` of a 16 KiB file of an indexed source tree
//! (`--serve-source`), each as a rate against 200 `/health` on the same kind of
//! connection in the same run (target: each at least 0.5; without `TCP_NODELAY`
//! an answer whose headers and body are written apart waited for the client's
//! delayed ACK).
//!
//! Run: `cargo bench --bench server` (`SERVER_KEYS` and `SERVER_SECONDS` change the
//! access index's size and the length of each wrk run). Needs `wrk` on PATH
//! (`apt-get install wrk`). Exit code 1 if a target is missed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use faircore::snapshot::{self, Request};
use faircore::{Catalogue, Config, ContentDir, Distribution, HashAlgo, Release};

#[path = "../fixtures/big/catalogue.rs"]
mod big;

const CONNECTIONS: &str = "64";
/// Random access lookups the memory figure is taken after.
const LOOKUPS: u64 = 100_000;
const RSS_LIMIT_MB: f64 = 100.0;
/// Growth of the server's RSS allowed while it streams a manifest.
const MANIFEST_LIMIT_MB: f64 = 50.0;
/// Requests of each keep-alive run.
const SEQUENTIAL: usize = 200;
/// Keep-alive runs of each route, taking turns (each lasts a few ms: on a
/// shared machine, many give each route a quiet moment).
const ROUNDS: usize = 20;
/// The size of the files the keep-alive runs download.
const FILE_SIZE: usize = 16 << 10;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes the `n`-key collection `big` and snapshots it as `dataset` version 1;
/// returns the record.
fn distribution(catalogue: &Catalogue, dataset: &str, n: usize) -> Distribution {
    big::write(catalogue, n, 0).expect("collection");
    // The fixture's mirror is gzipped; manifests list only URLs that give the
    // bytes as they are: make it an uncompressed one.
    let download = catalogue.root().join("download_indices/big.json");
    let text = std::fs::read_to_string(&download).expect("download index");
    let exact = text
        .replace("      \"compression\": \"gzip\",\n", "")
        .replace(".cif.gz\"", ".cif\"");
    std::fs::write(&download, exact).expect("download index");
    let writer = catalogue.writer().expect("lock");
    let request = Request {
        dataset: dataset.parse().expect("name"),
        collection: "big".parse().expect("name"),
        release: Release::new(Some("1".into()), None, None, None).expect("release"),
        merge_access_index: false,
        latest: true,
        if_changed: false,
    };
    let outcome = snapshot::snapshot(&writer, &request).expect("snapshot");
    let index = outcome.record.access_index.expect("an access index");
    let size = std::fs::metadata(catalogue.layout().content(ContentDir::AccessIndex, &index))
        .expect("access index")
        .len();
    println!("{dataset}: {n} keys, access index {size} bytes");
    outcome.record
}

/// The server as a child process, and its address.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fair"))
            .args(["serve", "--serve-source", "--listen", "127.0.0.1:0"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fair serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = loop {
            let line = lines.next().expect("the address").expect("line");
            if let Some(rest) = line.split("on http://").nth(1) {
                break rest.trim_end_matches('/').to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr }
    }

    /// A line of `/proc/PID/status` (`VmRSS`, `VmHWM`) in MB.
    fn memory(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("a memory figure");
        kb / 1024.0
    }
}

/// A streamed answer: its size, when its first and last bytes came, and the
/// server's RSS before and at most during it (sampled every 5 ms).
struct Streamed {
    bytes: u64,
    first_byte: f64,
    total: f64,
    rss_before: f64,
    rss_max: f64,
}

impl Server {
    /// Sends `GET target` on a new connection, closed after the answer.
    fn request(&self, target: &str) -> std::net::TcpStream {
        let mut stream = std::net::TcpStream::connect(&self.addr).expect("connect");
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .expect("request");
        stream
    }

    /// GETs `target`, reading the answer as it comes, while sampling the RSS.
    fn stream(&self, target: &str) -> Streamed {
        use std::io::Read;
        use std::sync::atomic::{AtomicBool, Ordering};
        let rss_before = self.memory("VmRSS");
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let sampler = scope.spawn(|| {
                let mut max = rss_before;
                while !done.load(Ordering::Relaxed) {
                    max = max.max(self.memory("VmRSS"));
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                max
            });
            let started = std::time::Instant::now();
            let mut stream = self.request(target);
            let mut buffer = vec![0; 64 << 10];
            let (mut bytes, mut first_byte) = (0u64, None);
            loop {
                let n = stream.read(&mut buffer).expect("read");
                if n == 0 {
                    break;
                }
                first_byte.get_or_insert_with(|| started.elapsed().as_secs_f64());
                bytes += n as u64;
            }
            let total = started.elapsed().as_secs_f64();
            done.store(true, Ordering::Relaxed);
            Streamed {
                bytes,
                first_byte: first_byte.unwrap_or(total),
                total,
                rss_before,
                rss_max: sampler.join().expect("sampler"),
            }
        })
    }
}

impl Server {
    /// Requests per second of `SEQUENTIAL` GETs of `target` one after another on
    /// a new keep-alive connection (each answer read whole before the next
    /// request), after a few to warm up.
    fn sequential(&self, target: &str) -> f64 {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(&self.addr).expect("connect");
        let request = format!("GET {target} HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
        let mut buffer = Vec::with_capacity(FILE_SIZE * 2);
        let mut one = || {
            stream.write_all(request.as_bytes()).expect("request");
            buffer.clear();
            let mut chunk = [0; 64 << 10];
            let (head, length) = loop {
                let n = stream.read(&mut chunk).expect("read");
                assert!(n > 0, "{target}: the connection closed");
                buffer.extend_from_slice(&chunk[..n]);
                if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                    assert!(head.starts_with("http/1.1 200"), "{target}: {head}");
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or_else(|| panic!("{target}: no Content-Length in {head}"));
                    break (end + 4, length);
                }
            };
            while buffer.len() < head + length {
                let n = stream.read(&mut chunk).expect("read");
                assert!(n > 0, "{target}: the connection closed");
                buffer.extend_from_slice(&chunk[..n]);
            }
        };
        for _ in 0..10 {
            one();
        }
        let started = std::time::Instant::now();
        for _ in 0..SEQUENTIAL {
            one();
        }
        SEQUENTIAL as f64 / started.elapsed().as_secs_f64()
    }
}

/// Indexes a tree of one `FILE_SIZE` file into the collection `name` of the
/// catalogue `root` (interned with `intern`); returns the file's element
/// checksum and key.
fn small_file(root: &Path, name: &str, intern: bool) -> (String, String) {
    let source = root.with_file_name(name);
    std::fs::create_dir_all(&source).expect("source");
    let bytes: Vec<u8> = (0..FILE_SIZE).map(|i| (i * 7 + name.len()) as u8).collect();
    std::fs::write(source.join("entry.bin"), &bytes).expect("write");
    let mut index = Command::new(env!("CARGO_BIN_EXE_fair"));
    index
        .args(["-q", "index"])
        .arg(root)
        .arg("--source")
        .arg(&source)
        .args(["--collection", name]);
    if intern {
        index.args(["--intern", "copy"]);
    }
    let status = index.stdout(Stdio::null()).status().expect("fair index");
    assert!(status.success(), "fair index {name}");
    (
        HashAlgo::Blake3.hash(&bytes).to_string(),
        "entry.bin".into(),
    )
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One wrk run: requests per second, p99 latency in ms, requests done, and the
/// server's RSS in MB after it.
struct Run {
    rps: f64,
    p99_ms: f64,
    requests: u64,
    rss: f64,
}

fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let value: f64 = text[..split].parse().ok()?;
    let scale = match &text[split..] {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        _ => return None,
    };
    Some(value * scale)
}

fn wrk(server: &Server, target: &str, seconds: u64, script: Option<&Path>) -> Run {
    let url = format!("http://{}{target}", server.addr);
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c", CONNECTIONS, "--latency"]);
    command.arg(format!("-d{seconds}s"));
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let out = command.arg(&url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk {url}: {text}");
    assert!(
        !text.contains("Non-2xx") && !text.contains("Socket errors"),
        "wrk {url}: errors\n{text}"
    );
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::trim))
            .unwrap_or_else(|| panic!("wrk {url}: no {prefix:?} in\n{text}"))
    };
    let requests = text
        .lines()
        .find_map(|l| l.trim().strip_suffix("read")?.split(" requests in").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("wrk {url}: no request count in\n{text}"));
    Run {
        rps: field("Requests/sec:").parse().expect("requests/sec"),
        p99_ms: duration_ms(field("99%")).expect("p99"),
        requests,
        rss: server.memory("VmRSS"),
    }
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not on PATH: apt-get install wrk");
        std::process::exit(1);
    }
    let keys: usize = env("SERVER_KEYS", 1_000_000);
    let seconds: u64 = env("SERVER_SECONDS", 5);
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("catalogue");
    let catalogue = Catalogue::init(&root, Config::new(HashAlgo::Blake3, None)).expect("init");
    let keyorder = distribution(&catalogue, "small", 1_000).keyorder;
    let big = distribution(&catalogue, "big", keys).checksum;

    // Random elements of the big access index, one per line, for the wrk script.
    let elements = tmp.path().join("elements.txt");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&elements).expect("create"));
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..LOOKUPS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let i = (state % keys as u64) as usize;
        writeln!(file, "{}", HashAlgo::Blake3.hash(&i.to_le_bytes())).expect("write");
    }
    drop(file);
    let script = tmp.path().join("access.lua");
    std::fs::write(
        &script,
        format!(
            "local keys = {{}}\n\
             for line in io.lines(\"{}\") do keys[#keys + 1] = line end\n\
             request = function()\n\
             \x20 return wrk.format(\"GET\", \"/machine/access/\" .. keys[math.random(#keys)])\n\
             end\n",
            elements.display()
        ),
    )
    .expect("script");

    let (from_source, key) = small_file(&root, "source", false);
    let (interned, _) = small_file(&root, "interned", true);

    let started = std::time::Instant::now();
    let server = Server::start(&root);
    println!(
        "server listening after {:.1} s (the store holds every lookup: fair snapshot stored them), RSS {:.1} MB",
        started.elapsed().as_secs_f64(),
        server.memory("VmRSS")
    );
    let health = wrk(&server, "/health", seconds, None);
    let find = wrk(
        &server,
        "/machine/find_distribution?dataset=small&version=1",
        seconds,
        None,
    );
    let mut access = wrk(&server, "/", seconds, Some(&script));
    let mut lookups = access.requests;
    while lookups < LOOKUPS {
        access = wrk(&server, "/", seconds, Some(&script));
        lookups += access.requests;
    }
    let rss = server.memory("VmRSS");
    let keyorder_run = wrk(
        &server,
        &format!("/machine/keyorder/{keyorder}"),
        seconds,
        None,
    );
    let health_again = wrk(&server, "/health", seconds, None);
    let manifest = server.stream(&format!("/machine/manifest/{big}?format=aria2"));
    let peak = server.memory("VmHWM");
    // The better of the two /health runs: the ratios are not flattered by a slow one.
    let reference = if health_again.rps > health.rps {
        &health_again
    } else {
        &health
    };

    println!("wrk -t2 -c{CONNECTIONS} -d{seconds}s, {keys}-element access index, one run each");
    println!("route                       req/s    p99 ms   ratio to /health   RSS after (MB)");
    let mut met = true;
    for (label, run) in [
        ("/health", reference),
        ("find_distribution", &find),
        ("access (random element)", &access),
        ("keyorder (1,000 keys)", &keyorder_run),
    ] {
        let ratio = run.rps / reference.rps;
        met &= ratio >= 0.5;
        println!(
            "{label:<24} {:>9.0} {:>9.2}   {ratio:>6.2}   {:>18.1}",
            run.rps, run.p99_ms, run.rss
        );
    }
    println!(
        "RSS after {lookups} random access lookups: {rss:.1} MB (limit {RSS_LIMIT_MB} MB); peak over the run {peak:.1} MB"
    );
    met &= rss < RSS_LIMIT_MB;
    println!(
        "aria2 manifest of the {keys}-key distribution: {} bytes, first bytes after {:.3} s, all after {:.2} s; server RSS {:.1} MB before, at most {:.1} MB while streaming: +{:.1} MB (limit +{MANIFEST_LIMIT_MB} MB)",
        manifest.bytes,
        manifest.first_byte,
        manifest.total,
        manifest.rss_before,
        manifest.rss_max,
        manifest.rss_max - manifest.rss_before
    );
    met &= manifest.rss_max - manifest.rss_before < MANIFEST_LIMIT_MB;
    // (label, target): the routes take turns in each round, so that a slow
    // spell of the machine hits them all.
    let routes = [
        ("/health", "/health".to_string()),
        ("/files/ (interned)", format!("/files/{interned}/{key}")),
        ("/buffers/ (interned)", format!("/buffers/{interned}")),
        // Each answer also looks the file up in the store, resolves its path
        // and checks its stat.
        (
            "/files/ (source tree)",
            format!("/files/{from_source}/{key}"),
        ),
    ];
    let mut rates = [0.0_f64; 4];
    for _ in 0..ROUNDS {
        for (rate, (_, target)) in rates.iter_mut().zip(&routes) {
            *rate = rate.max(server.sequential(target));
        }
    }
    println!(
        "one keep-alive connection, {SEQUENTIAL} requests one after another (best of {ROUNDS} rounds), {} KiB files",
        FILE_SIZE >> 10
    );
    println!("route                        req/s   ratio to /health");
    for (rate, (label, _)) in rates.iter().zip(&routes) {
        let rate = *rate;
        let ratio = rate / rates[0];
        met &= ratio >= 0.5;
        println!("{label:<24} {rate:>9.0}   {ratio:>6.2}");
    }
    // `exit` runs no destructor: stop the server and remove the catalogue first.
    drop(server);
    drop(tmp);
    if !met {
        println!("a target was missed");
        std::process::exit(1);
    }
}
