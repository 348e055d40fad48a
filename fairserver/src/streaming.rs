//! Response bodies produced by blocking code (reading collections, writing lines)
//! and sent as they are made: a writer on a thread of its own fills 64 KiB chunks
//! into a small channel that the response body drains. Memory stays at a few
//! chunks whatever the size of the answer; a client that goes away stops the
//! producer at its next chunk, and one that reads nothing for [`STALL`] too.
//! Producers never run on the workers' blocking pool, so clients that do not
//! read hold no thread other answers need; at most [`MAX_STREAMS`] run at once
//! (more are refused with 503), and `/health` shows how many do.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

use crate::error::ApiError;

const CHUNK: usize = 64 << 10;
/// Chunks waiting for the client.
const QUEUED: usize = 4;
/// How long a producer waits for its client to take a chunk.
pub const STALL: Duration = Duration::from_secs(60);
/// Streamed answers being produced at most.
pub const MAX_STREAMS: usize = 64;

/// Streamed answers being produced now.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// How many streamed answers are being produced now.
pub fn active() -> usize {
    ACTIVE.load(Ordering::Relaxed)
}

/// One producer counted in [`ACTIVE`] while it lives.
struct Slot;

impl Slot {
    fn take() -> Option<Slot> {
        ACTIVE
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_STREAMS).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The writer `produce` writes the body to.
#[derive(Debug)]
pub struct ChunkWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<io::Result<Bytes>>,
    /// The runtime of the answer's worker, whose timer bounds each wait.
    runtime: tokio::runtime::Handle,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        let sent = self
            .runtime
            .block_on(tokio::time::timeout(STALL, self.sender.send(Ok(chunk))));
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client went away",
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!("the client read nothing for {} s", STALL.as_secs()),
            )),
        }
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// A body stream whose bytes `produce` writes, on a thread of its own; 503 when
/// [`MAX_STREAMS`] are being produced already. An error of `produce` is logged
/// with `what` and ends the body early (the status is sent already; the client
/// sees a truncated answer, never a wrong one).
pub fn body(
    what: String,
    produce: impl FnOnce(&mut ChunkWriter) -> io::Result<()> + Send + 'static,
) -> Result<impl Stream<Item = io::Result<Bytes>>, ApiError> {
    let busy = || {
        ApiError::Unavailable(format!(
            "{MAX_STREAMS} streamed answers are being sent; try again later"
        ))
    };
    let slot = Slot::take().ok_or_else(busy)?;
    let (sender, receiver) = mpsc::channel(QUEUED);
    let runtime = tokio::runtime::Handle::current();
    let spawned = std::thread::Builder::new()
        .name("fair-stream".into())
        .spawn(move || {
            let _slot = slot;
            // The timers of `send` are the runtime's.
            let _context = runtime.enter();
            let mut writer = ChunkWriter {
                buffer: Vec::with_capacity(CHUNK),
                sender: sender.clone(),
                runtime: runtime.clone(),
            };
            let done = produce(&mut writer).and_then(|()| writer.flush());
            match done {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    tracing::debug!("{what}: {e}");
                }
                Err(e) => {
                    tracing::error!("{what}: {e}; the answer was cut short");
                    let _ = runtime.block_on(tokio::time::timeout(STALL, sender.send(Err(e))));
                }
                Ok(()) => {}
            }
        });
    if let Err(e) = spawned {
        tracing::error!("a thread for a streamed answer: {e}");
        return Err(busy());
    }
    Ok(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
    ))
}
