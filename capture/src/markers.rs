//! Clerk commands, one a line, from stdin or a FIFO (`--marker-fifo`, for a hotkey daemon or a
//! foot pedal script): any text becomes a marker (ghi chú, e.g. "Bắt đầu xét hỏi", "Tạm nghỉ") at
//! the recording's current position; `/end` ends the recording.
//!
//! A marker is appended to the spool (`markers.jsonl`, fsync'd) before the uplink is told, so a
//! marker typed while the server is unreachable, or just before a crash, is sent after the next
//! `ready`; the server stores a marker id once however often it is sent.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use crate::spool::{Marker, Spool};
use crate::status::Shared;

/// Turns command lines into markers or the end of the recording.
#[derive(Debug)]
pub struct Clerk {
    spool: Spool,
    shared: Arc<Shared>,
    notify: mpsc::UnboundedSender<()>,
    next_id: AtomicU64,
}

impl Clerk {
    pub fn new(spool: Spool, shared: Arc<Shared>, notify: mpsc::UnboundedSender<()>) -> Clerk {
        let made = spool.markers().map_or(0, |m| m.len() as u64);
        Clerk {
            spool,
            shared,
            notify,
            next_id: AtomicU64::new(made + 1),
        }
    }

    pub fn command(&self, line: &str) {
        let text = line.trim();
        match text {
            "" => {}
            "/end" | "/stop" => {
                self.shared.log("the clerk ended the recording");
                self.shared.stop.store(true, Ordering::Relaxed);
            }
            _ => {
                let marker = Marker {
                    id: format!("m{}", self.next_id.fetch_add(1, Ordering::Relaxed)),
                    offset: self
                        .shared
                        .secs(self.shared.recorded_frames.load(Ordering::Relaxed)),
                    text: text.to_string(),
                };
                match self.spool.add_marker(&marker) {
                    Ok(()) => {
                        self.shared.log(format!(
                            "marker {} at {:.1} s: {}",
                            marker.id, marker.offset, marker.text
                        ));
                        let _ = self.notify.send(());
                    }
                    Err(e) => self
                        .shared
                        .log(format!("cannot save marker `{text}` in the spool: {e}")),
                }
            }
        }
    }

    /// Reads commands until the input ends.
    pub fn read(&self, input: impl BufRead) {
        for line in input.lines() {
            match line {
                Ok(l) => self.command(&l),
                Err(_) => break,
            }
        }
    }

    /// Reads a FIFO for ever, reopening it after each writer closes it.
    pub fn read_fifo(&self, path: &Path) {
        loop {
            match std::fs::File::open(path) {
                Ok(f) => self.read(std::io::BufReader::new(f)),
                Err(e) => {
                    self.shared
                        .log(format!("cannot read {}: {e}", path.display()));
                    return;
                }
            }
        }
    }
}
