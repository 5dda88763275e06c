//! The statuses the simulated controllers write, as pure functions of the
//! object: a finished rollout, a completed Job, an Established CRD, or their
//! failing counterparts with the chosen reason and message.

use serde_json::{json, Map, Value};

/// Why an object is kept failing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub message: String,
}

fn replicas(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// Drops zero counts, as the real (Go, `omitempty`) status does.
fn counts(pairs: &[(&str, i64)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter(|(_, n)| *n != 0)
        .map(|(k, n)| ((*k).to_owned(), json!(n)))
        .collect()
}

fn condition(
    t: &str,
    status: bool,
    reason: &str,
    message: &str,
    now: &str,
    with_update: bool,
) -> Value {
    let mut c = json!({"type": t, "status": if status { "True" } else { "False" },
        "lastTransitionTime": now, "reason": reason, "message": message});
    if with_update {
        c["lastUpdateTime"] = json!(now);
    }
    c
}

fn hash(obj: &Value) -> String {
    let g = obj["metadata"]["generation"].as_i64().unwrap_or(1);
    format!(
        "{}-{:x}",
        obj["metadata"]["name"].as_str().unwrap_or_default(),
        0x5d4f_0000 + g
    )
}

/// The status the controller wants for an object of `kind`, or None for
/// kinds it does not manage.
pub fn desired(
    kind: &str,
    obj: &Value,
    failure: Option<&Failure>,
    nodes: i64,
    now: &str,
) -> Option<Value> {
    let s = match kind {
        "Deployment" => deployment(obj, failure, now),
        "StatefulSet" => stateful_set(obj, failure),
        "DaemonSet" => daemon_set(obj, failure, nodes),
        "Job" => job(obj, failure, now),
        "Pod" => pod(obj, failure, now),
        "CustomResourceDefinition" => crd(obj, failure, now),
        _ => return None,
    };
    Some(Value::Object(s))
}

/// A Pod that ran to completion: `Succeeded` with every container exited 0, or
/// `Failed` with the failure as the first container's reason and exit code 1 (how a
/// Helm test Pod ends; the fake runs nothing, so long-running Pods end the same way).
fn pod(obj: &Value, failure: Option<&Failure>, now: &str) -> Map<String, Value> {
    let containers = obj["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let statuses: Vec<Value> = containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let failed = failure.filter(|_| i == 0);
            let terminated = match failed {
                None => json!({"exitCode": 0, "reason": "Completed"}),
                Some(f) => json!({"exitCode": 1, "reason": f.reason, "message": f.message}),
            };
            json!({"name": c["name"], "image": c["image"], "ready": false, "restartCount": 0,
                "state": {"terminated": terminated}})
        })
        .collect();
    let mut s = Map::new();
    let phase = if failure.is_some() {
        "Failed"
    } else {
        "Succeeded"
    };
    s.insert("phase".into(), json!(phase));
    s.insert("startTime".into(), json!(now));
    s.insert("containerStatuses".into(), Value::Array(statuses));
    s
}

/// A finished rollout, or one stuck with the failure as `Progressing`.
fn deployment(obj: &Value, failure: Option<&Failure>, now: &str) -> Map<String, Value> {
    let mut s = Map::new();
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(1);
    let n = replicas(obj);
    s.insert("observedGeneration".into(), json!(generation));
    match failure {
        None => {
            s.extend(counts(&[
                ("replicas", n),
                ("updatedReplicas", n),
                ("readyReplicas", n),
                ("availableReplicas", n),
            ]));
            s.insert(
                "conditions".into(),
                json!([
                    condition(
                        "Available",
                        true,
                        "MinimumReplicasAvailable",
                        "Deployment has minimum availability.",
                        now,
                        true
                    ),
                    condition(
                        "Progressing",
                        true,
                        "NewReplicaSetAvailable",
                        &format!("ReplicaSet \"{}\" has successfully progressed.", hash(obj)),
                        now,
                        true
                    ),
                ]),
            );
        }
        Some(f) => {
            s.extend(counts(&[
                ("replicas", n),
                ("updatedReplicas", n),
                ("unavailableReplicas", n),
            ]));
            s.insert(
                "conditions".into(),
                json!([
                    condition(
                        "Available",
                        false,
                        "MinimumReplicasUnavailable",
                        "Deployment does not have minimum availability.",
                        now,
                        true
                    ),
                    condition("Progressing", false, &f.reason, &f.message, now, true),
                ]),
            );
        }
    }
    s
}

/// All replicas ready and current, or none ready.
fn stateful_set(obj: &Value, failure: Option<&Failure>) -> Map<String, Value> {
    let mut s = Map::new();
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(1);
    let n = replicas(obj);
    let ready = if failure.is_some() { 0 } else { n };
    s.insert("observedGeneration".into(), json!(generation));
    s.extend(counts(&[
        ("replicas", n),
        ("readyReplicas", ready),
        ("currentReplicas", n),
        ("updatedReplicas", n),
        ("availableReplicas", ready),
    ]));
    s.insert("currentRevision".into(), json!(hash(obj)));
    s.insert("updateRevision".into(), json!(hash(obj)));
    s.insert("collisionCount".into(), json!(0));
    s
}

/// One pod per node, ready unless failing.
fn daemon_set(obj: &Value, failure: Option<&Failure>, nodes: i64) -> Map<String, Value> {
    let mut s = Map::new();
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(1);
    let ready = if failure.is_some() { 0 } else { nodes };
    s.insert("observedGeneration".into(), json!(generation));
    s.insert("currentNumberScheduled".into(), json!(nodes));
    s.insert("desiredNumberScheduled".into(), json!(nodes));
    s.insert("numberMisscheduled".into(), json!(0));
    s.insert("numberReady".into(), json!(ready));
    s.extend(counts(&[
        ("updatedNumberScheduled", nodes),
        ("numberAvailable", ready),
        ("numberUnavailable", nodes - ready),
    ]));
    s
}

/// Completed, or failed past its backoff limit with the failure's reason.
fn job(obj: &Value, failure: Option<&Failure>, now: &str) -> Map<String, Value> {
    let mut s = Map::new();
    let start = obj["status"]["startTime"]
        .as_str()
        .unwrap_or(now)
        .to_owned();
    s.insert("startTime".into(), json!(start));
    match failure {
        None => {
            s.insert("completionTime".into(), json!(now));
            s.insert(
                "succeeded".into(),
                json!(obj["spec"]["completions"].as_i64().unwrap_or(1)),
            );
            s.insert(
                "conditions".into(),
                json!([
                    condition(
                        "SuccessCriteriaMet",
                        true,
                        "CompletionsReached",
                        "Reached expected number of succeeded pods",
                        now,
                        false
                    ),
                    condition(
                        "Complete",
                        true,
                        "CompletionsReached",
                        "Reached expected number of succeeded pods",
                        now,
                        false
                    ),
                ]),
            );
        }
        Some(f) => {
            s.insert(
                "failed".into(),
                json!(obj["spec"]["backoffLimit"].as_i64().unwrap_or(6) + 1),
            );
            s.insert(
                "conditions".into(),
                json!([
                    condition("FailureTarget", true, &f.reason, &f.message, now, false),
                    condition("Failed", true, &f.reason, &f.message, now, false),
                ]),
            );
        }
    }
    s.insert("ready".into(), json!(0));
    s.insert("terminating".into(), json!(0));
    s.insert("uncountedTerminatedPods".into(), json!({}));
    s
}

/// Established with its names accepted, or names not accepted.
fn crd(obj: &Value, failure: Option<&Failure>, now: &str) -> Map<String, Value> {
    let mut s = Map::new();
    let storage: Vec<Value> = obj["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["storage"] == true)
        .map(|v| v["name"].clone())
        .collect();
    let conditions = match failure {
        None => json!([
            condition(
                "NamesAccepted",
                true,
                "NoConflicts",
                "no conflicts found",
                now,
                false
            ),
            condition(
                "Established",
                true,
                "InitialNamesAccepted",
                "the initial names have been accepted",
                now,
                false
            ),
        ]),
        Some(f) => json!([
            condition("NamesAccepted", false, &f.reason, &f.message, now, false),
            condition(
                "Established",
                false,
                "NotAccepted",
                "not all names are accepted",
                now,
                false
            ),
        ]),
    };
    s.insert("conditions".into(), conditions);
    s.insert("acceptedNames".into(), obj["spec"]["names"].clone());
    s.insert("storedVersions".into(), json!(storage));
    s
}

/// Whether two statuses agree once condition timestamps are ignored.
pub fn same(a: &Value, b: &Value) -> bool {
    fn scrub(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(cs) = v.get_mut("conditions").and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                c.remove("lastTransitionTime");
                c.remove("lastUpdateTime");
            }
        }
        if let Some(m) = v.as_object_mut() {
            m.remove("startTime");
            m.remove("completionTime");
        }
        v
    }
    scrub(a) == scrub(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_deployment_status() {
        let d = json!({"metadata": {"name": "web", "generation": 2}, "spec": {"replicas": 3}});
        let s = desired("Deployment", &d, None, 1, "t").unwrap();
        assert_eq!(s["observedGeneration"], 2);
        assert_eq!(s["availableReplicas"], 3);
        assert_eq!(s["conditions"][0]["type"], "Available");
    }

    #[test]
    fn failing_job_carries_reason() {
        let j = json!({"metadata": {"name": "j"}, "spec": {}});
        let f = Failure {
            reason: "BackoffLimitExceeded".into(),
            message: "boom".into(),
        };
        let s = desired("Job", &j, Some(&f), 1, "t").unwrap();
        assert_eq!(s["conditions"][1]["type"], "Failed");
        assert_eq!(s["conditions"][1]["message"], "boom");
    }

    #[test]
    fn zero_replicas_omit_counts() {
        let d = json!({"metadata": {"name": "web"}, "spec": {"replicas": 0}});
        let s = desired("Deployment", &d, None, 1, "t").unwrap();
        assert!(s.get("readyReplicas").is_none());
        assert!(same(
            &s,
            &desired("Deployment", &d, None, 1, "later").unwrap()
        ));
    }
}
