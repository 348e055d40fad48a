//! The progress line of `fair index` on a terminal: files and bytes done, their
//! rates, and, when the previous run's total is known, the percentage and ETA.
//!
//! `⠋ 412,000/1,000,000 files (41%) · 52.1k files/s · 4.5 MB/s · ETA 11s`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{
    DecimalBytes, HumanCount, HumanDuration, ProgressBar, ProgressState, ProgressStyle,
};

/// Files and bytes done, shown on stderr when it is a terminal.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    bytes: Arc<AtomicU64>,
}

impl Progress {
    /// A progress line counting towards `total` files (the previous run's), if
    /// known; nothing when stderr is not a terminal.
    pub fn new(total: Option<u64>) -> Self {
        let bytes = Arc::new(AtomicU64::new(0));
        let template = match total {
            Some(_) => {
                "{spinner} {files}/{total} files ({percent}) · {file_rate} · {byte_rate} · ETA {left}"
            }
            None => "{spinner} {files} files · {file_rate} · {byte_rate} · {elapsed}",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .with_key("files", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", HumanCount(s.pos()));
            })
            .with_key("total", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", HumanCount(s.len().unwrap_or(0).max(s.pos())));
            })
            .with_key(
                "percent",
                |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}%", percent(s.pos(), s.len()));
                },
            )
            .with_key(
                "file_rate",
                |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{} files/s", rate(s.pos(), s.elapsed().as_secs_f64()));
                },
            )
            .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", HumanDuration(s.eta()));
            })
            .with_key("byte_rate", {
                let bytes = Arc::clone(&bytes);
                move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let per_s =
                        bytes.load(Ordering::Relaxed) as f64 / s.elapsed().as_secs_f64().max(1e-3);
                    let _ = write!(w, "{}/s", DecimalBytes(per_s as u64));
                }
            });
        let bar = super::progress_bar_styled(style);
        if let (Some(bar), Some(total)) = (&bar, total) {
            bar.set_length(total);
        }
        Progress { bar, bytes }
    }

    /// Counts one file of `size` bytes done.
    pub fn file(&self, size: u64) {
        self.bytes.fetch_add(size, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Clears the line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `done` of `total` as a whole percentage, at most 100 (the tree may have grown).
fn percent(done: u64, total: Option<u64>) -> u64 {
    match total {
        Some(total) if total > 0 => (done.saturating_mul(100) / total).min(100),
        _ => 0,
    }
}

/// `count` per `seconds`, three significant digits: `812`, `52.1k`, `1.20M`.
fn rate(count: u64, seconds: f64) -> String {
    let per_s = count as f64 / seconds.max(1e-3);
    match per_s {
        r if r >= 1e6 => format!("{:.3}M", r / 1e6),
        r if r >= 1e5 => format!("{:.0}k", r / 1e3),
        r if r >= 1e4 => format!("{:.1}k", r / 1e3),
        r if r >= 1e3 => format!("{:.2}k", r / 1e3),
        r => format!("{r:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_percentages_read_like_a_person_wrote_them() {
        assert_eq!(rate(812, 1.0), "812");
        assert_eq!(rate(52_100, 1.0), "52.1k");
        assert_eq!(rate(1_234, 1.0), "1.23k");
        assert_eq!(rate(520_000, 1.0), "520k");
        assert_eq!(rate(2_400_000, 2.0), "1.200M");
        assert_eq!(percent(412, Some(1000)), 41);
        assert_eq!(percent(1200, Some(1000)), 100, "a tree that grew");
        assert_eq!(percent(5, None), 0);
    }
}
