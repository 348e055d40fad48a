//! `Server`: the state every worker shares (the catalogue, its current view,
//! the derived store, the metrics), and how it follows the catalogue: a new view
//! loaded whole when the directory changes and published once the store holds
//! its lookups, the store reopened when a writer rebuilt it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use faircore::store::sync::{self, Ensured};
use faircore::{Catalogue, StoreReader, View};

use crate::metrics::Metrics;
use crate::{Options, checked};

/// The server's state, shared by every worker.
#[derive(Debug)]
pub struct Server {
    pub(crate) catalogue: Catalogue,
    pub(crate) view: RwLock<Arc<View>>,
    pub(crate) metrics: Metrics,
    /// Keyorders whose bytes were checked against their name (small ones kept).
    pub(crate) keyorders: checked::Checked,
    /// Element buffers checked likewise.
    pub(crate) buffers: checked::Checked,
    /// Source files (`--serve-source`): those whose stat is no longer the
    /// indexed one, checked likewise; small ones kept while they keep their stat.
    pub(crate) sources: checked::Checked,
    /// The public URL of this server, if known.
    pub(crate) base_url: Option<String>,
    /// Whether the indexed source trees are served too.
    pub(crate) serve_source: bool,
    /// The catalogue's derived store (access lookups, reverse index, extra
    /// digests, indexed source files), read-only; `None` while the catalogue
    /// has none.
    pub(crate) store: RwLock<Option<Arc<StoreReader>>>,
    /// Whether the current view was published while the store lacked some of
    /// its lookups (the first view, while another writer held the lock): the
    /// next poll tries again, changed files or not.
    pub(crate) behind: AtomicBool,
    /// Serialises reloads.
    pub(crate) reloading: Mutex<()>,
    /// Why the served view is older than the catalogue on disk, while a reload
    /// could not finish (cleared by the next view published).
    pub(crate) stale: Mutex<Option<String>>,
    /// When the reload in progress started, if one is.
    pub(crate) reload_started: Mutex<Option<Instant>>,
    /// When the current view, published with problems (such as files its
    /// records name that are missing: a copy made in the wrong order), is
    /// loaded again though no record changed, and the wait after that.
    pub(crate) retry: Mutex<Option<(Instant, Duration)>>,
}

/// A reload running longer than this makes `/health` say `stale`.
const STUCK: Duration = Duration::from_secs(30);

/// The first wait before a view with problems is loaded again; it doubles each
/// time the problems stay the same, up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(5);
/// The longest wait between two loads of a view whose problems stay.
const RETRY_MAX: Duration = Duration::from_secs(600);

/// Sets `slot` to `value` (a poisoned lock holds plain data: taken over).
fn set<T>(slot: &Mutex<T>, value: T) {
    match slot.lock() {
        Ok(mut current) => *current = value,
        Err(poisoned) => *poisoned.into_inner() = value,
    }
}

/// Marks a reload as running until dropped.
struct Running<'s>(&'s Mutex<Option<Instant>>);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        set(self.0, None);
    }
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
            sources: checked::Checked::following_changes(),
            base_url,
            serve_source: options.serve_source,
            store: RwLock::new(None),
            behind: AtomicBool::new(false),
            reloading: Mutex::new(()),
            stale: Mutex::new(None),
            reload_started: Mutex::new(None),
            retry: Mutex::new(None),
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

    /// Loads a new view if the catalogue's files changed (or if `force`, or if
    /// the current view has problems and is due to be loaded again: missing
    /// files may have arrived since; after 5 s, then twice as long each time
    /// the problems stay the same, up to 10 min), and publishes it once the derived store holds every lookup it needs: the
    /// writer (`fair snapshot`) stores them before it publishes a record; a
    /// catalogue changed by another tool is caught up here, under the writer
    /// lock. While another writer holds the lock and the store lacks something,
    /// the current view stays (the next poll tries again); the first view is
    /// published all the same, with a problem in `/health`. Returns whether a
    /// view was published.
    pub fn reload(self: &Arc<Self>, force: bool) -> bool {
        let _one = self.reloading.lock();
        set(&self.reload_started, Some(Instant::now()));
        let _running = Running(&self.reload_started);
        let current = self.view();
        let layout = self.catalogue.layout();
        let unchanged = !force && faircore::view::fingerprint(layout) == current.fingerprint;
        let retry = unchanged && self.retry_due();
        if unchanged && !retry {
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
                let reason = format!(
                    "stale: the catalogue changed on disk and generation {} is still served: {why}",
                    current.generation
                );
                set(&self.stale, Some(reason));
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
        if retry && view.problems == current.problems {
            // Nothing came back: the current view stays, tried again later.
            self.retry_later(Some(current.problems.len()));
            return false;
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
        let troubled = !view.problems.is_empty();
        let view = Arc::new(view);
        match self.view.write() {
            Ok(mut slot) => *slot = view,
            Err(poisoned) => *poisoned.into_inner() = view,
        }
        self.behind.store(behind, Ordering::Release);
        set(&self.stale, None);
        set(&self.retry, None);
        if troubled {
            self.retry_later(None);
        }
        true
    }

    /// Whether the current view is due to be loaded again for its problems.
    fn retry_due(&self) -> bool {
        let retry = match self.retry.lock() {
            Ok(retry) => *retry,
            Err(poisoned) => *poisoned.into_inner(),
        };
        retry.is_some_and(|(at, _)| Instant::now() >= at)
    }

    /// Schedules the next load of the current view for its problems: after
    /// [`RETRY_FIRST`], or twice the last wait when `again` (the problems
    /// stayed; their number, for the log).
    fn retry_later(&self, again: Option<usize>) {
        let last = match self.retry.lock() {
            Ok(retry) => *retry,
            Err(poisoned) => *poisoned.into_inner(),
        };
        let wait = match (again, last) {
            (Some(_), Some((_, wait))) => (wait * 2).min(RETRY_MAX),
            _ => RETRY_FIRST,
        };
        if let Some(problems) = again {
            tracing::debug!(problems, ?wait, "the catalogue's problems stay");
        }
        set(&self.retry, Some((Instant::now() + wait, wait)));
    }

    /// Why the served view is older than the catalogue on disk, if it is: a
    /// reload could not finish, or has been running for longer than [`STUCK`].
    pub(crate) fn staleness(&self) -> Option<String> {
        let stuck = match self.reload_started.lock() {
            Ok(started) => *started,
            Err(poisoned) => *poisoned.into_inner(),
        }
        .map(|started| started.elapsed())
        .filter(|running| *running > STUCK);
        if let Some(running) = stuck {
            return Some(format!(
                "stale: a reload of the catalogue has been running for {} s",
                running.as_secs()
            ));
        }
        match self.stale.lock() {
            Ok(stale) => stale.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether the current view was published with lookups missing from the
    /// store.
    pub(crate) fn is_behind(&self) -> bool {
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
                let reloaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    server.reload(server.is_behind())
                }));
                // A reload that panicked is tried again at the next poll (the
                // served view keeps its old fingerprint); meanwhile it is stale.
                let Ok(reloaded) = reloaded else {
                    set(
                        &server.stale,
                        Some("stale: a reload of the catalogue failed (see the log); tried again at the next poll".into()),
                    );
                    continue;
                };
                if !reloaded {
                    // The catalogue is unchanged, but its store may have been
                    // rebuilt or written (a failure is logged).
                    let _ = server.open_store();
                }
            }
        });
    }
}
