//! CPU threads shared by transcriptions running at the same time. A server gives each job the
//! decoding states of a whole machine, so a lone job decodes on every core; when two run, each
//! window takes threads from this pool before it is decoded, so the jobs share the cores instead
//! of crowding them. Crowded, the job with fewer states ran last, alone on one core: a lone 1-state
//! and a lone 2-state job at once took 13.8 s for what two jobs of 2 states sharing the cores did
//! in 11.2 s (BENCHMARKS, stop 22). Hand-written: the standard library has no semaphore, and
//! tokio's is for async tasks, not the decoding threads.

use std::sync::{Condvar, Mutex, PoisonError};

/// A pool of CPU threads that decodes take from and give back.
#[derive(Debug)]
pub struct DecodeSlots {
    total: usize,
    free: Mutex<usize>,
    freed: Condvar,
}

/// Threads taken from a [`DecodeSlots`], given back when dropped.
#[derive(Debug)]
pub struct Slot<'a> {
    pool: &'a DecodeSlots,
    threads: usize,
}

impl DecodeSlots {
    /// A pool of `threads` CPU threads (at least one).
    pub fn new(threads: usize) -> Self {
        let total = threads.max(1);
        Self {
            total,
            free: Mutex::new(total),
            freed: Condvar::new(),
        }
    }

    /// Waits until `threads` threads are free (the whole pool, if it is smaller) and takes them.
    pub fn take(&self, threads: usize) -> Slot<'_> {
        let threads = threads.clamp(1, self.total);
        let free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        let mut free = self
            .freed
            .wait_while(free, |free| *free < threads)
            .unwrap_or_else(PoisonError::into_inner);
        *free -= threads;
        Slot {
            pool: self,
            threads,
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut free = self
            .pool
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *free += self.threads;
        self.pool.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn no_more_threads_are_taken_than_the_pool_holds() {
        let pool = DecodeSlots::new(2);
        let (busy, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..6 {
                scope.spawn(|| {
                    for _ in 0..20 {
                        let _slot = pool.take(1);
                        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        busy.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
        // Everything was given back: the whole pool can be taken at once.
        drop(pool.take(2));
        // A request larger than the pool takes the whole pool rather than waiting for ever.
        assert_eq!(pool.take(5).threads, 2);
    }
}
