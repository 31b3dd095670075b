//! A connection's outgoing queue: frames already encoded (shared between subscribers), with
//! the bytes they hold bounded, so a device that stops reading is disconnected instead of
//! pinning every fan-out frame (it catches up when it comes back: the store is the truth).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use tokio::sync::mpsc;

/// Bytes of frames waiting for one connection's socket (acknowledgements, fan-out). Past
/// this the device is not reading: it is disconnected and catches up when it reconnects
/// (nothing is lost, the store is the truth), instead of pinning every fan-out frame. Well
/// above one fan-out frame (`MAX_FAN_OUT_FRAME`) and a burst of acknowledgements.
const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;

/// Frames queued for one connection, already encoded (shared between subscribers), with
/// the bytes they hold counted against [`MAX_QUEUED_BYTES`].
#[derive(Clone)]
pub(crate) struct Outgoing {
    tx: mpsc::UnboundedSender<Bytes>,
    queued: Arc<AtomicUsize>,
}

/// The connection is closed, or its queue is full (it is being closed).
pub(crate) struct NotQueued;

impl Outgoing {
    pub(crate) fn new() -> (Outgoing, mpsc::UnboundedReceiver<Bytes>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        (Outgoing { tx, queued }, rx)
    }

    pub(crate) fn send(&self, frame: Bytes) -> Result<(), NotQueued> {
        let len = frame.len();
        if self.queued.fetch_add(len, Ordering::Relaxed) + len > MAX_QUEUED_BYTES {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            // An empty frame (never a protocol message) tells the connection to close.
            let _ = self.tx.send(Bytes::new());
            return Err(NotQueued);
        }
        self.tx.send(frame).map_err(|_| NotQueued)
    }

    /// A frame left the queue for the socket.
    pub(crate) fn taken(&self, frame: &Bytes) {
        self.queued.fetch_sub(frame.len(), Ordering::Relaxed);
    }
}
