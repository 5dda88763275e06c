//! Request counting (total and per verb) and a bounded log of requests, so
//! tests and benchmarks can assert how many calls a client made.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::verb::Verb;

/// Requests kept in the log before the oldest are dropped.
const LOG_LIMIT: usize = 100_000;

/// A snapshot of the counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    pub total: u64,
    /// Per verb; verbs never seen are absent.
    pub by_verb: BTreeMap<String, u64>,
}

impl RequestCounts {
    pub fn get(&self, verb: Verb) -> u64 {
        self.by_verb.get(verb.as_str()).copied().unwrap_or(0)
    }

    /// Requests that were not discovery (resource verbs only).
    pub fn resource_requests(&self) -> u64 {
        self.total - self.get(Verb::Discovery)
    }
}

/// One served (or failed) request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    pub verb: String,
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// The status code sent; 0 when the connection was dropped instead.
    pub status: u16,
}

#[derive(Debug, Default)]
pub struct RequestCounter {
    total: AtomicU64,
    by_verb: [AtomicU64; Verb::ALL.len()],
    log: Mutex<Vec<RequestRecord>>,
}

impl RequestCounter {
    pub fn count(&self, verb: Verb) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.by_verb[verb.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn log(&self, record: RequestRecord) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= LOG_LIMIT {
            log.remove(0);
        }
        log.push(record);
    }

    pub fn snapshot(&self) -> RequestCounts {
        let mut by_verb = BTreeMap::new();
        for v in Verb::ALL {
            let n = self.by_verb[v.index()].load(Ordering::Relaxed);
            if n > 0 {
                by_verb.insert(v.as_str().to_owned(), n);
            }
        }
        RequestCounts {
            total: self.total.load(Ordering::Relaxed),
            by_verb,
        }
    }

    pub fn records(&self) -> Vec<RequestRecord> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        for c in &self.by_verb {
            c.store(0, Ordering::Relaxed);
        }
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_resets() {
        let c = RequestCounter::default();
        c.count(Verb::Get);
        c.count(Verb::Get);
        c.count(Verb::Discovery);
        let s = c.snapshot();
        assert_eq!(
            (s.total, s.get(Verb::Get), s.resource_requests()),
            (3, 2, 2)
        );
        c.reset();
        assert_eq!(c.snapshot().total, 0);
    }
}
