//! A served catalogue in this process: `fairserver::create_app` run by actix's
//! test service, with the interface of the TCP server `http::Served` (the
//! [`Answers`] trait, and `log`), so a test moves from one to the other by its
//! constructor. Request targets reach the router exactly as given: actix's test
//! request parses them with `http::Uri`, as the HTTP/1 codec does, and neither
//! normalises `..`, `//` or percent-encodings. A target that parser refuses
//! (bytes outside ASCII, DEL) never reaches an application: the codec answers it
//! 400 itself, so such targets must be sent to the TCP server.

use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::Service;
use actix_web::http::{Method, Uri};
use actix_web::test::{self, TestRequest};
use tracing_subscriber::fmt::MakeWriter;

use crate::http::{Answers, Response};

/// The `host:port` every request names (there is no socket): what `addr` is for
/// `Served`, and the base of the URLs the server makes.
pub const ADDR: &str = "fair.invalid:61918";

/// How long `start` waits between looks at the catalogue, as `Served::start`.
const POLL: Duration = Duration::from_millis(100);

/// The answer to one request, once its body is read.
type Answer = Pin<Box<dyn Future<Output = Response>>>;

/// `fair serve` in this process: the server, watching its catalogue, and its
/// application.
pub struct InProc {
    /// See [`ADDR`].
    pub addr: String,
    /// Dropped before the runtime it runs on.
    app: Box<dyn Fn(TestRequest, bool) -> Answer>,
    runtime: actix_web::rt::SystemRunner,
    log: Log,
    logger: tracing::Dispatch,
}

impl InProc {
    /// Serves `dir` as `fair serve DIR --poll-ms 100` would.
    pub fn start(dir: &Path) -> InProc {
        InProc::open(&options(dir))
    }

    /// Serves `options` (its `listen` is not used): opens the server, watches the
    /// catalogue every `options.poll`, and builds the application.
    pub fn open(options: &fairserver::Options) -> InProc {
        let log = Log::default();
        let logger = tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_writer(log.clone())
                .with_ansi(false)
                .with_target(false)
                .with_max_level(tracing::Level::WARN)
                .finish(),
        );
        let server = tracing::dispatcher::with_default(&logger, || {
            fairserver::Server::open(options)
                .unwrap_or_else(|e| panic!("{}: {e}", options.dir.display()))
        });
        server.watch(options.poll);
        let runtime = actix_web::rt::System::new();
        let app = runtime.block_on(test::init_service(fairserver::create_app(server.clone())));
        let app = Rc::new(app);
        let app = Box::new(move |request: TestRequest, head: bool| -> Answer {
            let app = app.clone();
            Box::pin(async move {
                let answer = match app.call(request.to_request()).await {
                    Ok(answer) => answer.map_into_boxed_body().into_parts().1,
                    Err(error) => error.error_response(),
                };
                let status = answer.status().as_u16();
                let headers = answer
                    .headers()
                    .iter()
                    .map(|(name, value)| {
                        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                        (name.as_str().to_string(), value)
                    })
                    .collect();
                // Nothing is sent after the head of an answer to HEAD.
                let body = if head {
                    Vec::new()
                } else {
                    let body = actix_web::body::to_bytes(answer.into_body()).await;
                    let body =
                        body.unwrap_or_else(|_| panic!("the body of a {status} answer ends early"));
                    body.to_vec()
                };
                Response {
                    status,
                    headers,
                    body,
                }
            })
        });
        InProc {
            addr: ADDR.to_string(),
            app,
            runtime,
            log,
            logger,
        }
    }

    /// What the server logged at WARN and above while opening and answering
    /// requests, as `fair serve` writes it to stderr; not what it logs on other
    /// threads (reloads, the locate index, the blocking pool).
    pub fn log(&self) -> String {
        self.log.text()
    }
}

impl Answers for InProc {
    fn addr(&self) -> &str {
        &self.addr
    }

    fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        if let Err(e) = target.parse::<Uri>() {
            panic!("{target:?} is no HTTP/1 request target ({e}): send it to the TCP server");
        }
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let head = method == Method::HEAD;
        let mut request = TestRequest::default()
            .method(method)
            .uri(target)
            .insert_header(("Host", self.addr.as_str()));
        for &(name, value) in headers {
            request = request.append_header((name, value));
        }
        tracing::dispatcher::with_default(&self.logger, || {
            self.runtime.block_on((self.app)(request, head))
        })
    }
}

/// The options of `fair serve DIR --poll-ms 100`.
pub fn options(dir: &Path) -> fairserver::Options {
    fairserver::Options {
        dir: dir.to_path_buf(),
        listen: ADDR.to_string(),
        poll: POLL,
        base_url: None,
        serve_source: false,
    }
}

/// What the server logged, shared with its logger.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = self.0.lock() {
            log.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Log {
    type Writer = Log;

    fn make_writer(&'a self) -> Log {
        self.clone()
    }
}
