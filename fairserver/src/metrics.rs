//! `/metrics`: requests by route and status, a latency histogram, and the size of
//! the catalogue, in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use faircore::View;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0,
];

/// Connections the HTTP codec dropped before any route saw a request (malformed
/// request lines or headers, broken streams), counted from its log events by
/// [`StreamErrors`].
static STREAM_ERRORS: AtomicU64 = AtomicU64::new(0);

/// The target of the HTTP codec's log events.
pub const CODEC: &str = "actix_http::h1::dispatcher";

/// A `tracing` layer that counts the HTTP codec's errors (any client can cause
/// them, so they are counted in `/metrics` and logged only at debug level: see
/// the binary's logger).
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamErrors;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StreamErrors {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let meta = event.metadata();
        if meta.target() == CODEC && *meta.level() == tracing::Level::ERROR {
            STREAM_ERRORS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Counters since the server started.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Requests per bucket (not cumulative), the last one for slower requests.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    micros: AtomicU64,
}

impl Metrics {
    /// Counts one request to `route` answered with `status` in `took`.
    pub fn record(&self, route: &str, status: u16, took: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((route.to_owned(), status)).or_default() += 1;
        }
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// The Prometheus text of the counters and of `view`.
    pub fn render(&self, view: &View) -> String {
        let mut out = String::new();
        out.push_str("# HELP fair_http_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE fair_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((route, status), n) in requests.iter() {
                let route = route.replace('\\', "\\\\").replace('"', "\\\"");
                let _ = writeln!(
                    out,
                    "fair_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP fair_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE fair_http_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(
                out,
                "fair_http_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = self.micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "fair_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "fair_http_request_duration_seconds_count {cumulative}");
        let _ = writeln!(
            out,
            "# HELP fair_http_stream_errors_total Connections dropped by the HTTP codec (malformed requests, broken streams).\n# TYPE fair_http_stream_errors_total counter\nfair_http_stream_errors_total {}",
            STREAM_ERRORS.load(Ordering::Relaxed)
        );
        let gauges = [
            (
                "fair_catalogue_generation",
                "Catalogue views loaded since start.",
                view.generation as usize,
            ),
            (
                "fair_catalogue_datasets",
                "Datasets served.",
                view.datasets.len(),
            ),
            (
                "fair_catalogue_distributions",
                "Distribution records served.",
                view.records(),
            ),
            (
                "fair_catalogue_problems",
                "Files that could not be read.",
                view.problems.len(),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}
