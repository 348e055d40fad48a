//! `fairserver`: the HTTP server of `fair`. The machine API of Seamless's
//! `fairserver.py` (same routes, status codes and bodies, minus its documented
//! defects) over an immutable in-memory view of the catalogue that is replaced
//! whole when the directory changes, with `/machine/access` answered from an
//! embedded database.

mod access;
mod checked;
mod content;
mod cors;
mod error;
mod loaded;
mod metadata;
mod metrics;
mod routes;
mod streaming;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Compress;
use actix_web::{App, HttpServer, web};
use faircore::Catalogue;
use futures_util::future::{Either, ok};

pub use access::AccessDb;
pub use error::ApiError;
pub use loaded::Loaded;
use metrics::Metrics;

/// What `fair serve` needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// Where to listen.
    pub listen: String,
    /// The access database (default `.fair/server.redb` in the catalogue).
    pub database: Option<PathBuf>,
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
    view: RwLock<Arc<Loaded>>,
    access: AccessDb,
    metrics: Metrics,
    /// Keyorders whose bytes were checked against their name (small ones kept).
    keyorders: checked::Checked,
    /// Element buffers checked likewise.
    buffers: checked::Checked,
    /// The public URL of this server, if known.
    base_url: Option<String>,
    /// Whether the indexed source trees are served too.
    serve_source: bool,
    /// The catalogue's database (extra digests, indexed source files), read-only;
    /// `None` until `fair index` made one.
    database: RwLock<Option<Arc<faircore::db::Reader>>>,
    /// Serialises reloads.
    reloading: Mutex<()>,
    /// The generation of the latest view the locate index was brought up to
    /// date with (in the background: it may lag behind the view).
    located: AtomicU64,
    /// Why the last locate update failed, if it did.
    locate_problem: Mutex<Option<String>>,
    /// Serialises locate updates.
    locating: Mutex<()>,
}

impl Server {
    /// Opens the catalogue of `options` and loads its first view; the error
    /// names the file that could not be opened.
    pub fn open(options: &Options) -> Result<Arc<Server>, String> {
        let catalogue = Catalogue::open(&options.dir).map_err(|e| e.to_string())?;
        let db_path = options
            .database
            .clone()
            .unwrap_or_else(|| catalogue.root().join(".fair").join("server.redb"));
        let base_url = options
            .base_url
            .clone()
            .or_else(|| catalogue.config().base_url.clone());
        let access = AccessDb::open(&db_path)?;
        let server = Arc::new(Server {
            catalogue,
            view: RwLock::new(Arc::new(Loaded::default())),
            access,
            metrics: Metrics::default(),
            keyorders: checked::Checked::default(),
            buffers: checked::Checked::default(),
            base_url,
            serve_source: options.serve_source,
            database: RwLock::new(None),
            reloading: Mutex::new(()),
            located: AtomicU64::new(0),
            locate_problem: Mutex::new(None),
            locating: Mutex::new(()),
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
    pub fn view(&self) -> Arc<Loaded> {
        match self.view.read() {
            Ok(view) => view.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Loads a new view if the catalogue's files changed (or if `force`): the
    /// access indexes it points to are added to the database first, then the view
    /// replaces the old one at once, and the locate index is brought up to date
    /// with it in the background. Returns whether it did.
    pub fn reload(self: &Arc<Self>, force: bool) -> bool {
        let _one = self.reloading.lock();
        let current = self.view();
        if !force && loaded::fingerprint(self.catalogue.root()) == current.fingerprint {
            return false;
        }
        let mut view = loaded::load(&self.catalogue, current.generation + 1);
        if let Err(problem) = self.open_database() {
            view.problems.push(problem);
        }
        let problems = self.access.add_all(&self.catalogue, &view.access_indexes());
        view.problems.extend(problems);
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
        self.locate_in_background();
        true
    }

    /// Brings the locate index up to date with the current view, in a thread
    /// (updates run one at a time, each with the view current when it starts).
    fn locate_in_background(self: &Arc<Self>) {
        let server = Arc::downgrade(self);
        std::thread::spawn(move || {
            let Some(server) = server.upgrade() else {
                return;
            };
            let _one = server.locating.lock();
            let view = server.view();
            if server.located.load(Ordering::Acquire) >= view.generation {
                return;
            }
            let started = Instant::now();
            let collections = view.collections();
            let outcome =
                faircore::locate::update(server.access.redb(), &server.catalogue, &collections);
            let problem = match outcome {
                Ok(added) => {
                    tracing::info!(
                        generation = view.generation,
                        added,
                        seconds = started.elapsed().as_secs_f64(),
                        "locate index up to date"
                    );
                    None
                }
                Err(e) => {
                    tracing::warn!("{e}");
                    Some(e.to_string())
                }
            };
            match server.locate_problem.lock() {
                Ok(mut slot) => *slot = problem,
                Err(poisoned) => *poisoned.into_inner() = problem,
            }
            server.located.store(view.generation, Ordering::Release);
        });
    }

    /// Whether the locate index is up to date with `view`; why its last update
    /// failed, if it did (it then holds the collections before the failing one).
    pub(crate) fn locate_state(&self, view: &Loaded) -> (bool, Option<String>) {
        let ready = self.located.load(Ordering::Acquire) >= view.generation;
        let problem = match self.locate_problem.lock() {
            Ok(slot) => slot.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        (ready, problem)
    }

    /// The catalogue's database, if it has one.
    pub fn database(&self) -> Option<Arc<faircore::db::Reader>> {
        match self.database.read() {
            Ok(db) => db.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Opens the catalogue's database if it is not open yet (it appears with the
    /// first `fair index`), or again if the writer rebuilt it.
    fn open_database(&self) -> Result<(), String> {
        if self.database().is_some_and(|db| db.is_current()) {
            return Ok(());
        }
        let reader = faircore::db::Reader::open(self.catalogue.root()).map_err(|e| {
            tracing::warn!("{e}");
            e.to_string()
        })?;
        let reader = reader.map(Arc::new);
        match self.database.write() {
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
                if !server.reload(false) {
                    // The catalogue is unchanged, but its database may have
                    // been rebuilt (a failure is logged).
                    let _ = server.open_database();
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
