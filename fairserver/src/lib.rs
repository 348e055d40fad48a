//! `fairserver`: the HTTP server of `fair`. The machine API of Seamless's
//! `fairserver.py` (same routes, status codes and bodies, minus its documented
//! defects) over an immutable in-memory view of the catalogue
//! ([`faircore::View`]) that is replaced whole when the directory changes, with
//! `/machine/access` and `/machine/locate` answered from the catalogue's derived
//! store ([`faircore::StoreReader`]).

mod checked;
mod content;
mod cors;
mod error;
mod metadata;
mod metrics;
mod routes;
mod streaming;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Compress;
use actix_web::{App, HttpServer, web};
use faircore::store::sync::{self, Ensured};
use faircore::{Catalogue, StoreReader, View};
use futures_util::future::{Either, ok};

pub use error::ApiError;
use metrics::Metrics;

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

/// The server's state, shared by every worker.
#[derive(Debug)]
pub struct Server {
    catalogue: Catalogue,
    view: RwLock<Arc<View>>,
    metrics: Metrics,
    /// Keyorders whose bytes were checked against their name (small ones kept).
    keyorders: checked::Checked,
    /// Element buffers checked likewise.
    buffers: checked::Checked,
    /// The public URL of this server, if known.
    base_url: Option<String>,
    /// Whether the indexed source trees are served too.
    serve_source: bool,
    /// The catalogue's derived store (access lookups, reverse index, extra
    /// digests, indexed source files), read-only; `None` while the catalogue
    /// has none.
    store: RwLock<Option<Arc<StoreReader>>>,
    /// Whether the current view was published while the store lacked some of
    /// its lookups (the first view, while another writer held the lock): the
    /// next poll tries again, changed files or not.
    behind: AtomicBool,
    /// Serialises reloads.
    reloading: Mutex<()>,
}

impl Server {
    /// Opens the catalogue of `options` and loads its first view; the error
    /// names the file that could not be opened.
    pub fn open(options: &Options) -> Result<Arc<Server>, String> {
        let catalogue = Catalogue::open(&options.dir).map_err(|e| e.to_string())?;
        let base_url = options
            .base_url
            .clone()
            .or_else(|| catalogue.config().base_url.clone());
        let server = Arc::new(Server {
            catalogue,
            view: RwLock::new(Arc::new(View::default())),
            metrics: Metrics::default(),
            keyorders: checked::Checked::default(),
            buffers: checked::Checked::default(),
            base_url,
            serve_source: options.serve_source,
            store: RwLock::new(None),
            behind: AtomicBool::new(false),
            reloading: Mutex::new(()),
        });
        server.reload(true);
        Ok(server)
    }

    /// This server as a mirror of the catalogue's content, when its public URL
    /// is known.
    pub(crate) fn mirror(&self) -> Option<faircore::manifest::Mirror> {
        self.base_url
            .clone()
            .map(|base| faircore::manifest::Mirror {
                base,
                sources: self.serve_source,
            })
    }

    /// The current view.
    pub fn view(&self) -> Arc<View> {
        match self.view.read() {
            Ok(view) => view.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Loads a new view if the catalogue's files changed (or if `force`), and
    /// publishes it once the derived store holds every lookup it needs: the
    /// writer (`fair snapshot`) stores them before it publishes a record; a
    /// catalogue changed by another tool is caught up here, under the writer
    /// lock. While another writer holds the lock and the store lacks something,
    /// the current view stays (the next poll tries again); the first view is
    /// published all the same, with a problem in `/health`. Returns whether a
    /// view was published.
    pub fn reload(self: &Arc<Self>, force: bool) -> bool {
        let _one = self.reloading.lock();
        let current = self.view();
        let layout = self.catalogue.layout();
        if !force && faircore::view::fingerprint(layout) == current.fingerprint {
            return false;
        }
        let mut view = faircore::view::load(&self.catalogue, current.generation + 1);
        let mut behind = false;
        match sync::ensure(&self.catalogue, &view) {
            Ok(Ensured::Current) => {}
            Ok(Ensured::CaughtUp(caught)) => {
                tracing::info!(
                    access_indexes = caught.access_indexes,
                    collections = caught.collections,
                    "derived store caught up with the catalogue"
                );
                view.problems.extend(caught.problems);
            }
            Ok(Ensured::Behind(why)) if current.generation > 0 => {
                tracing::info!("{why}; generation {} stays", current.generation);
                return false;
            }
            Ok(Ensured::Behind(why)) => {
                behind = true;
                view.problems.push(why);
            }
            Err(e) => view.problems.push(e.to_string()),
        }
        if let Err(problem) = self.open_store() {
            view.problems.push(problem);
        }
        for problem in &view.problems {
            tracing::warn!("{problem}");
        }
        for warning in &view.warnings {
            tracing::warn!("{warning}");
        }
        tracing::info!(
            generation = view.generation,
            datasets = view.datasets.len(),
            distributions = view.records(),
            problems = view.problems.len(),
            "catalogue loaded"
        );
        let view = Arc::new(view);
        match self.view.write() {
            Ok(mut slot) => *slot = view,
            Err(poisoned) => *poisoned.into_inner() = view,
        }
        self.behind.store(behind, Ordering::Release);
        true
    }

    /// Whether the current view was published with lookups missing from the
    /// store.
    fn is_behind(&self) -> bool {
        self.behind.load(Ordering::Acquire)
    }

    /// The catalogue's derived store, if it has one.
    pub fn store(&self) -> Option<Arc<StoreReader>> {
        match self.store.read() {
            Ok(store) => store.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Opens the catalogue's store if it is not open yet (it appears with the
    /// first write), or again if the writer rebuilt it; else takes its latest
    /// commit for the access lookups.
    fn open_store(&self) -> Result<(), String> {
        let report = |e: faircore::Error| {
            tracing::warn!("{e}");
            e.to_string()
        };
        if let Some(store) = self.store().filter(|s| s.is_current()) {
            return store.refresh().map_err(report);
        }
        let reader = StoreReader::open(self.catalogue.layout())
            .map_err(report)?
            .map(Arc::new);
        match self.store.write() {
            Ok(mut slot) => *slot = reader,
            Err(poisoned) => *poisoned.into_inner() = reader,
        }
        Ok(())
    }

    /// Checks the catalogue for changes every `every`, in a thread that ends with
    /// the server.
    pub fn watch(self: &Arc<Self>, every: Duration) {
        let weak: Weak<Server> = Arc::downgrade(self);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(every);
                let Some(server) = weak.upgrade() else { break };
                if !server.reload(server.is_behind()) {
                    // The catalogue is unchanged, but its store may have been
                    // rebuilt or written (a failure is logged).
                    let _ = server.open_store();
                }
            }
        });
    }
}

/// A GET route that also answers HEAD; other methods get 405.
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(routes::method_not_allowed))
}

/// The application: the route table, CORS, metrics and request logs.
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
    let metrics = server.clone();
    App::new()
        .app_data(web::Data::from(server))
        .service(get("/machine/dataset/{name:.*}", routes::dataset))
        .service(get("/machine/find/{checksum:.*}", routes::find))
        .service(get("/machine/access/{checksum:.*}", routes::access))
        .service(get("/machine/keyorder/{checksum:.*}", routes::keyorder).wrap(Compress::default()))
        .service(get("/machine/diff/{old}/{new}", routes::diff))
        .service(get("/machine/manifest/{checksum}", routes::manifest))
        .service(get("/machine/locate/{checksum}", routes::locate))
        .service(get("/buffers/{checksum}", content::buffer))
        .service(get("/", metadata::root))
        .service(get("/dataset/", metadata::datasets_container))
        .service(get("/dataset/{name}", metadata::dataset))
        .service(get("/dataset/{name}/", metadata::versions_container))
        .service(get("/dataset/{name}/{checksum}", metadata::snapshot))
        .service(get(
            "/dataset/{name}/{checksum}/collection.json",
            metadata::collection,
        ))
        .service(get(
            "/dataset/{name}/{checksum}/distribution/{part}",
            metadata::distribution,
        ))
        .service(get("/files/{checksum}/{key:.*}", content::file))
        .service(get("/machine/find_distribution", routes::find_distribution))
        .service(get("/machine/find_checksum", routes::find_checksum))
        .service(get("/machine/datasets", routes::datasets))
        .service(get("/health", routes::health))
        .service(get("/metrics", routes::metrics))
        .default_service(web::to(routes::no_route))
        .wrap_fn(move |request, service| {
            let started = Instant::now();
            if request.method() == Method::OPTIONS {
                let response = cors::preflight(request.headers());
                return Either::Left(ok(request.into_response(response).map_into_right_body()));
            }
            let origin = request
                .headers()
                .get(actix_web::http::header::ORIGIN)
                .cloned();
            let metrics = metrics.clone();
            let answer = service.call(request);
            Either::Right(async move {
                let mut response = answer.await?;
                if let Some(origin) = origin {
                    cors::decorate(origin, response.headers_mut());
                }
                let route = response
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "(no route)".into());
                let status = response.status().as_u16();
                let took = started.elapsed();
                metrics.metrics.record(&route, status, took);
                tracing::info!(
                    method = %response.request().method(),
                    path = response.request().path(),
                    status,
                    micros = took.as_micros() as u64,
                    "request"
                );
                Ok(response.map_into_left_body())
            })
        })
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
