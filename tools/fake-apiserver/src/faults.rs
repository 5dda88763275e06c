//! Fault injection: latency on every request, and per verb a rate of 500s,
//! 429s with `Retry-After`, connections dropped before or after the request
//! is processed, and requests that hang until the client times out.
//!
//! Decisions come from one seeded generator, so a single-threaded client
//! sees the same faults on every run with the same seed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::status::ApiError;
use crate::verb::Verb;

/// Fault rates for one verb, each in [0, 1]; they are exclusive and their
/// sum is clamped to 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerbFaults {
    /// Answer 500 InternalError without processing.
    pub error_rate: f64,
    /// Answer 429 TooManyRequests with `Retry-After` without processing.
    pub throttle_rate: f64,
    /// Close the connection without a response, before processing.
    pub drop_rate: f64,
    /// Process the request (the write happens), then close the connection
    /// without a response.
    pub drop_after_rate: f64,
    /// Hold the request for [`Faults::hang`] without processing, then close
    /// the connection.
    pub timeout_rate: f64,
}

impl VerbFaults {
    /// The same rate of every fault kind (so `5 * rate` of requests fail).
    pub fn uniform(rate: f64) -> Self {
        VerbFaults {
            error_rate: rate,
            throttle_rate: rate,
            drop_rate: rate,
            drop_after_rate: rate,
            timeout_rate: rate,
        }
    }
}

/// The knobs, settable at runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Added to every request (discovery included) before it is served.
    #[serde(with = "millis")]
    pub latency: Duration,
    /// Per verb; a verb not present has no faults.
    pub per_verb: BTreeMap<Verb, VerbFaults>,
    /// `Retry-After` seconds on injected 429s.
    pub retry_after_secs: u64,
    /// How long an injected timeout holds the request.
    #[serde(with = "millis")]
    pub hang: Duration,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency: Duration::ZERO,
            per_verb: BTreeMap::new(),
            retry_after_secs: 1,
            hang: Duration::from_secs(30),
        }
    }
}

impl Faults {
    /// No faults, only latency.
    pub fn latency(latency: Duration) -> Self {
        Faults {
            latency,
            ..Faults::default()
        }
    }

    /// The same faults on every resource verb (not discovery).
    pub fn on_resource_verbs(mut self, f: VerbFaults) -> Self {
        for v in Verb::RESOURCE {
            self.per_verb.insert(v, f);
        }
        self
    }

    pub fn on(mut self, verb: Verb, f: VerbFaults) -> Self {
        self.per_verb.insert(verb, f);
        self
    }
}

/// What to do with one request.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    Proceed,
    Fail(ApiError),
    Drop,
    DropAfter,
    Hang(Duration),
}

/// The live knobs and the generator.
#[derive(Debug)]
pub struct FaultState {
    faults: Mutex<Faults>,
    rng: Mutex<Rng>,
}

impl FaultState {
    pub fn new(faults: Faults, seed: u64) -> Self {
        FaultState {
            faults: Mutex::new(faults),
            rng: Mutex::new(Rng::new(seed)),
        }
    }

    pub fn get(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    pub fn reseed(&self, seed: u64) {
        *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = Rng::new(seed);
    }

    /// The latency to add and the fault (if any) for a request.
    pub fn decide(&self, verb: Verb) -> (Duration, FaultAction) {
        let faults = self
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(f) = faults.per_verb.get(&verb) else {
            return (faults.latency, FaultAction::Proceed);
        };
        let u = self.rng.lock().unwrap_or_else(|e| e.into_inner()).unit();
        let mut edge = 0.0;
        let mut hit = |rate: f64| {
            edge += rate.max(0.0);
            u < edge
        };
        let action = if hit(f.error_rate) {
            FaultAction::Fail(ApiError::internal(
                "Internal error occurred: injected fault",
            ))
        } else if hit(f.throttle_rate) {
            FaultAction::Fail(ApiError::too_many_requests(faults.retry_after_secs))
        } else if hit(f.drop_rate) {
            FaultAction::Drop
        } else if hit(f.drop_after_rate) {
            FaultAction::DropAfter
        } else if hit(f.timeout_rate) {
            FaultAction::Hang(faults.hang)
        } else {
            FaultAction::Proceed
        };
        (faults.latency, action)
    }
}

/// Durations as whole milliseconds in JSON knobs.
pub(crate) mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_respected_and_reproducible() {
        let f = Faults::default().on(
            Verb::Get,
            VerbFaults {
                error_rate: 0.5,
                ..Default::default()
            },
        );
        let run = || {
            let s = FaultState::new(f.clone(), 42);
            (0..1000)
                .map(|_| matches!(s.decide(Verb::Get).1, FaultAction::Fail(_)))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let failures = a.iter().filter(|x| **x).count();
        assert!((400..600).contains(&failures), "{failures}");
        let s = FaultState::new(f, 1);
        assert_eq!(s.decide(Verb::List).1, FaultAction::Proceed);
    }

    #[test]
    fn faults_deserialize_from_json() {
        let f: Faults =
            serde_json::from_str(r#"{"latency": 5, "per_verb": {"patch": {"error_rate": 0.1}}}"#)
                .unwrap();
        assert_eq!(f.latency, Duration::from_millis(5));
        assert_eq!(f.per_verb[&Verb::Patch].error_rate, 0.1);
    }
}
