//! Starting the server: `create_app`, the application the server and the tests
//! both run (the route table and the middleware), and `serve`, which runs it on
//! a port until a signal.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, web};

use crate::routes::ROUTES;
use crate::{Server, middleware, ops};

/// What `fair serve` needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// Where to listen.
    pub listen: String,
    /// How often the directory is checked for changes.
    pub poll: Duration,
    /// The public URL of this server: `/buffers/` is then offered as a mirror in
    /// access answers and manifests (default: fair.toml's `base_url`).
    pub base_url: Option<String>,
    /// Also serve the files of the indexed source trees (`/files/ELEMENT/KEY`),
    /// each only while its size, mtime and inode are those it was indexed with.
    pub serve_source: bool,
}

/// Threads of each worker's blocking pool.
const BLOCKING_THREADS: usize = 4;

/// The application: every route of [`ROUTES`], the answer to any other path,
/// and the middleware (CORS, metrics, request logs).
pub fn create_app(
    server: Arc<Server>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let observed = server.clone();
    App::new()
        .app_data(web::Data::from(server))
        .configure(|app| {
            for route in ROUTES {
                (route.mount)(app, route.pattern);
            }
        })
        .default_service(web::to(ops::no_route))
        .wrap_fn(move |request, service| middleware::observe(&observed, request, service))
}

/// Serves `options.dir` until SIGINT or SIGTERM (in-flight requests finish);
/// `ready` gets the bound address once the server listens.
pub fn serve(options: &Options, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let server = Server::open(options).map_err(std::io::Error::other)?;
    server.watch(options.poll);
    actix_web::rt::System::new().block_on(async move {
        let app_server = server.clone();
        let http = HttpServer::new(move || create_app(app_server.clone()))
            .shutdown_timeout(30)
            // Headers and body are separate writes: with Nagle's algorithm the body
            // waits for the client's delayed ACK of the headers (~40 ms an answer
            // on a keep-alive connection).
            .tcp_nodelay(true)
            // Only large keyorders are read there; a few threads per worker are plenty,
            // and each thread's stack and allocator heap would count in the RSS.
            .worker_max_blocking_threads(BLOCKING_THREADS)
            .bind(&options.listen)?;
        if let Some(addr) = http.addrs().first() {
            ready(*addr);
        }
        http.run().await
    })
}
