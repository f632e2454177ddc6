//! Admission control: at most so many jobs of one kind at once, at most so
//! many waiting behind them, and no one waiting longer than a set time.
//! Past that, the caller gets [`Busy`] at once, and the channel tells the
//! person to try again shortly or call the council, instead of leaving them
//! in a queue that grows without bound.
//!
//! Answers, speech recognition and the language model each have their own
//! gate (the model's is in [`crate::llm`]), so a burst of recordings cannot
//! hold up typed questions.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The gate was full: too many jobs waiting, or the wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// A bounded number of jobs at once, and a bounded queue behind them.
pub struct Gate {
    name: &'static str,
    permits: Arc<Semaphore>,
    at_once: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
    refused: AtomicU64,
}

/// A place in the gate; the place is given up when this is dropped.
pub struct Admitted(#[allow(dead_code)] OwnedSemaphorePermit);

impl Gate {
    /// `at_once` jobs run together (at least one); `max_waiting` more may
    /// wait, each for at most `max_wait`.
    pub fn new(name: &'static str, at_once: usize, max_waiting: usize, max_wait: Duration) -> Gate {
        let at_once = at_once.max(1);
        Gate {
            name,
            permits: Arc::new(Semaphore::new(at_once)),
            at_once,
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
            refused: AtomicU64::new(0),
        }
    }

    /// A place for one job: at once if one is free, else after waiting in
    /// the queue, or [`Busy`] when the queue is full or the wait runs out.
    pub async fn enter(&self) -> Result<Admitted, Busy> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(Admitted(p));
        }
        // Take a place in the queue, unless it is full.
        let queued = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                (w < self.max_waiting).then_some(w + 1)
            });
        if queued.is_err() {
            return Err(self.refuse("queue full"));
        }
        let _leave = LeaveQueue(&self.waiting);
        match tokio::time::timeout(self.max_wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(Admitted(p)),
            // The semaphore is never closed; treat it as busy all the same.
            Ok(Err(_)) => Err(self.refuse("closed")),
            Err(_) => Err(self.refuse("waited too long")),
        }
    }

    fn refuse(&self, why: &'static str) -> Busy {
        self.refused.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(gate = self.name, why, "busy: work refused");
        Busy
    }

    /// Jobs running now, jobs waiting, and jobs refused since start.
    pub fn load(&self) -> Load {
        Load {
            running: self.at_once - self.permits.available_permits(),
            waiting: self.waiting.load(Ordering::Acquire),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}

/// A gate's state at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Load {
    pub running: usize,
    pub waiting: usize,
    pub refused: u64,
}

struct LeaveQueue<'a>(&'a AtomicUsize);

impl Drop for LeaveQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_and_places_come_back() {
        let gate = Arc::new(Gate::new("test", 1, 1, Duration::from_secs(5)));
        let first = gate.enter().await.unwrap();
        assert_eq!(gate.load().running, 1);
        // The second waits in the queue...
        let g = gate.clone();
        let second = tokio::spawn(async move { g.enter().await.map(|_| ()) });
        while gate.load().waiting == 0 {
            tokio::task::yield_now().await;
        }
        // ...so the third is refused at once.
        let started = std::time::Instant::now();
        assert_eq!(gate.enter().await.err(), Some(Busy));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(gate.load().refused, 1);
        drop(first);
        assert_eq!(second.await.unwrap(), Ok(()));
        let load = gate.load();
        assert_eq!((load.running, load.waiting), (0, 0));
    }

    #[tokio::test]
    async fn a_wait_that_runs_out_is_refused() {
        let gate = Gate::new("test", 1, 8, Duration::from_millis(50));
        let _held = gate.enter().await.unwrap();
        assert_eq!(gate.enter().await.err(), Some(Busy));
        assert_eq!(gate.load().waiting, 0, "the refused job left the queue");
    }

    #[tokio::test]
    async fn no_queue_means_only_the_running_jobs() {
        let gate = Gate::new("test", 2, 0, Duration::from_secs(5));
        let a = gate.enter().await.unwrap();
        let _b = gate.enter().await.unwrap();
        assert!(gate.enter().await.is_err());
        drop(a);
        assert!(gate.enter().await.is_ok());
    }
}
