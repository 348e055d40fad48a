//! Response bodies produced by blocking code (reading collections, writing lines)
//! and sent as they are made: a writer on a blocking-pool thread fills 64 KiB
//! chunks into a small channel that the response body drains. Memory stays at a
//! few chunks whatever the size of the answer, and a client that goes away stops
//! the producer at its next chunk.

use std::io::{self, Write};

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

const CHUNK: usize = 64 << 10;
/// Chunks waiting for the client.
const QUEUED: usize = 4;

/// The writer `produce` writes the body to.
#[derive(Debug)]
pub struct ChunkWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<io::Result<Bytes>>,
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
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
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

/// A body stream whose bytes `produce` writes, on the blocking pool. An error of
/// `produce` is logged with `what` and ends the body early (the status is sent
/// already; the client sees a truncated answer, never a wrong one).
pub fn body(
    what: String,
    produce: impl FnOnce(&mut ChunkWriter) -> io::Result<()> + Send + 'static,
) -> impl Stream<Item = io::Result<Bytes>> {
    let (sender, receiver) = mpsc::channel(QUEUED);
    actix_web::rt::task::spawn_blocking(move || {
        let mut writer = ChunkWriter {
            buffer: Vec::with_capacity(CHUNK),
            sender: sender.clone(),
        };
        let done = produce(&mut writer).and_then(|()| writer.flush());
        match done {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                tracing::debug!("{what}: {e}");
            }
            Err(e) => {
                tracing::error!("{what}: {e}; the answer was cut short");
                let _ = sender.blocking_send(Err(e));
            }
            Ok(()) => {}
        }
    });
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}
