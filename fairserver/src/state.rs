//! `Server`: the state every worker shares (the catalogue, its current view,
//! the access and locate indexes, the metrics), and how it follows the catalogue:
//! a new view loaded whole when the directory changes, the locate index brought up
//! to date in the background, the catalogue's database reopened when rebuilt.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use faircore::Catalogue;

use crate::access::AccessDb;
use crate::loaded::{self, Loaded};
use crate::metrics::Metrics;
use crate::{Options, checked};

/// The server's state, shared by every worker.
#[derive(Debug)]
pub struct Server {
    pub(crate) catalogue: Catalogue,
    view: RwLock<Arc<Loaded>>,
    pub(crate) access: AccessDb,
    pub(crate) metrics: Metrics,
    /// Keyorders whose bytes were checked against their name (small ones kept).
    pub(crate) keyorders: checked::Checked,
    /// Element buffers checked likewise.
    pub(crate) buffers: checked::Checked,
    /// The public URL of this server, if known.
    pub(crate) base_url: Option<String>,
    /// Whether the indexed source trees are served too.
    pub(crate) serve_source: bool,
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
