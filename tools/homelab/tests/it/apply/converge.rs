//! Randomised runs in-process against the fake: sequences of desired sets (objects
//! added, changed and removed across releases and namespaces), foreign objects made by
//! another field manager in between, half of the runs with faults injected on every
//! verb (500s, 429s, dropped connections, hangs). After each apply, live state equals
//! desired plus the foreign objects, and no foreign object was ever modified or deleted;
//! a faulted run either converges or stops before pruning, and a re-run converges.

use std::time::Duration;

use base64::Engine as _;
use fake_apiserver::{Config, FakeApiServer, Faults, ServerHandle, Verb, VerbFaults};
use homelab::apply::discovery::Discovery;
use homelab::apply::event::Collect;
use homelab::apply::retry::RetryPolicy;
use homelab::apply::{
    self, ApiClient, ApplyOptions, ApplyPlan, ApplyReport, Cluster, Needs, ObjectStatus,
    ResolvedContext,
};
use homelab::render::ownership::{applyset_id, label, PART_OF_LABEL};
use homelab::render::{Redactor, RenderedObject, RenderedRelease, RenderedSet};
use serde_json::{json, Value};

use super::contains;

const RUNS: u64 = 200;
const STEPS: usize = 3;
const RELEASES: usize = 3;
const SLOTS: usize = 6;
const KINDS: [(&str, &str); 4] = [
    ("", "configmaps"),
    ("", "secrets"),
    ("", "services"),
    ("apps", "deployments"),
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn object(slot: usize, ns: &str, value: u64) -> Value {
    let name = format!("o{slot}");
    match slot % KINDS.len() {
        0 => json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns}, "data": {"v": value.to_string()}}),
        1 => json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": ns},
            "data": {"v": base64::engine::general_purpose::STANDARD.encode(value.to_string())}}),
        2 => json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80 + value}]}}),
        _ => json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1 + value, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": format!("nginx:1.2{value}")}]}}}}),
    }
}

/// A random desired set; every release keeps its namespace so foreign objects in it
/// are never swept away with a pruned namespace.
fn random_set(rng: &mut Rng) -> RenderedSet {
    let id = applyset_id("dev");
    let releases = (0..RELEASES)
        .map(|r| {
            let name = format!("r{r}");
            let ns = format!("ns{r}");
            let mut bodies =
                vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})];
            for slot in 0..SLOTS {
                if rng.below(10) < 6 {
                    bodies.push(object(slot, &ns, rng.below(3)));
                }
            }
            let objects = bodies
                .into_iter()
                .map(|mut body| {
                    label(&mut body, &name, "dev", &id);
                    RenderedObject {
                        release: name.clone(),
                        source: "random".into(),
                        body,
                    }
                })
                .collect();
            RenderedRelease {
                name,
                namespace: ns,
                objects,
            }
        })
        .collect();
    RenderedSet {
        environment: "dev".into(),
        applyset_id: id,
        releases,
        warnings: vec![],
        errors: vec![],
        redactor: Redactor::default(),
    }
}

async fn cluster(server: &ServerHandle, attempts: u32) -> Cluster {
    let resolved = ResolvedContext {
        kubeconfig: kube::config::Kubeconfig::from_yaml(
            &server.kubeconfig_yaml_for("kind-homelab", "default"),
        )
        .unwrap(),
        context: "kind-homelab".into(),
        forced: false,
    };
    let client = ApiClient::new(resolved.client().await.unwrap(), 8)
        .with_timeout(Duration::from_secs(2))
        .with_retry(RetryPolicy {
            attempts,
            base: Duration::from_millis(2),
            cap: Duration::from_millis(20),
        });
    Cluster {
        context: "kind-homelab".into(),
        discovery: Discovery::new(client.clone()),
        client,
    }
}

fn faults() -> Faults {
    let mut f = Faults::default()
        .on_resource_verbs(VerbFaults::uniform(0.01))
        .on(Verb::Discovery, VerbFaults::uniform(0.01));
    f.retry_after_secs = 0;
    f.hang = Duration::from_millis(20);
    f
}

/// Live equals desired (plus foreign objects) in the release namespaces.
fn check_converged(server: &ServerHandle, plan: &ApplyPlan, run: u64, step: usize) {
    for o in &plan.objects {
        let (group, plural) = match o.kind() {
            "Namespace" => ("", "namespaces"),
            kind => {
                KINDS[["ConfigMap", "Secret", "Service", "Deployment"]
                    .iter()
                    .position(|k| *k == kind)
                    .unwrap()]
            }
        };
        let live = server
            .get(group, plural, o.namespace().unwrap_or(""), o.name())
            .unwrap_or_else(|| panic!("run {run} step {step}: {} missing", o.describe()));
        contains(&live, &o.body)
            .unwrap_or_else(|e| panic!("run {run} step {step}: {}: {e}", o.describe()));
    }
    for r in 0..RELEASES {
        let ns = format!("ns{r}");
        for (group, plural) in KINDS {
            for live in server.list(group, plural, Some(&ns)) {
                if live["metadata"]["labels"][PART_OF_LABEL] != plan.applyset_id {
                    continue;
                }
                let name = live["metadata"]["name"].as_str().unwrap();
                assert!(
                    plan.objects.iter().any(|o| o.namespace() == Some(&ns)
                        && o.name() == name
                        && live["kind"] == o.kind()),
                    "run {run} step {step}: {plural} {ns}/{name} should have been pruned"
                );
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One apply of `plan` (rendered as `set`), its events collected in `events`.
fn apply_once(
    runtime: &tokio::runtime::Runtime,
    cluster: &Cluster,
    plan: &ApplyPlan,
    options: &ApplyOptions,
    set: &RenderedSet,
    events: &Collect,
) -> ApplyReport {
    runtime.block_on(apply::apply(cluster, plan, options, &set.redactor, events))
}

#[test]
fn random_sequences_converge_and_never_touch_foreign_objects() {
    let runtime = runtime();
    let mut interrupted = 0;
    for run in 0..RUNS {
        let mut rng = Rng(0x9e37_79b9 ^ ((run + 1) * 0x2545_f491));
        let faulty = run % 2 == 1;
        // Every other faulted run has no retries, so runs that cannot finish (and must
        // stop before pruning) happen too.
        let attempts = if run % 4 == 3 { 1 } else { 8 };
        let server = runtime
            .block_on(FakeApiServer::start(Config {
                seed: run + 1,
                ..Config::default()
            }))
            .unwrap();
        let cluster = runtime.block_on(cluster(&server, attempts));
        let mut foreign: Vec<(String, String, Value)> = Vec::new();
        for step in 0..STEPS {
            let set = random_set(&mut rng);
            let plan = ApplyPlan::new(&set, &Needs::new());
            let options = ApplyOptions {
                wait: false,
                ..ApplyOptions::default()
            };
            if faulty {
                server.set_faults(faults());
            }
            let events = Collect::default();
            let report = apply_once(&runtime, &cluster, &plan, &options, &set, &events);
            server.clear_faults();
            if !report.ok {
                interrupted += 1;
                let applies_failed = report
                    .status
                    .iter()
                    .any(|s| !matches!(s, ObjectStatus::Applied(_)));
                assert!(
                    !applies_failed || (report.pruned.is_empty() && report.prune_failed.is_empty()),
                    "run {run} step {step}: a failed run pruned: {:?}",
                    events.events()
                );
                // Some of what the failed run applied may be pruned now, never foreign objects.
                let again = apply_once(&runtime, &cluster, &plan, &options, &set, &events);
                assert!(
                    again.ok,
                    "run {run} step {step}: the re-run failed: {:?}",
                    events.events()
                );
            }
            check_converged(&server, &plan, run, step);
            for (ns, name, before) in &foreign {
                let now = server.get("", "configmaps", ns, name).unwrap_or_else(|| {
                    panic!("run {run} step {step}: foreign {ns}/{name} deleted")
                });
                assert_eq!(
                    now["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"],
                    "run {run} step {step}: foreign {ns}/{name} modified"
                );
            }
            let ns = format!("ns{}", rng.below(RELEASES as u64));
            let name = format!("foreign-{step}");
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": ns}, "data": {"owner": "someone else"}});
            let (code, stored) = server.apply_as("other", &body, false);
            assert_eq!(code, 201, "{stored}");
            foreign.push((ns, name, stored));
        }
        drop(cluster);
        drop(server);
    }
    eprintln!("{RUNS} runs, {interrupted} applies stopped by faults and converged on a re-run");
    assert!(interrupted > 0, "no run exercised stopping before prune");
}

/// A discovery request that failed is asked again by the next run on the same
/// connection (found when a faulted run's error stayed cached and its re-run failed).
#[test]
fn failed_discovery_is_not_remembered() {
    let runtime = runtime();
    let server = runtime
        .block_on(FakeApiServer::start(Config::default()))
        .unwrap();
    let cluster = runtime.block_on(cluster(&server, 1));
    let mut rng = Rng(7);
    let set = random_set(&mut rng);
    let plan = ApplyPlan::new(&set, &Needs::new());
    let options = ApplyOptions {
        wait: false,
        ..ApplyOptions::default()
    };
    let drops = VerbFaults {
        drop_rate: 1.0,
        ..VerbFaults::default()
    };
    server.set_faults(Faults::default().on(Verb::Discovery, drops));
    let events = Collect::default();
    let failed = apply_once(&runtime, &cluster, &plan, &options, &set, &events);
    assert!(!failed.ok, "every discovery request was dropped");
    server.clear_faults();
    let again = apply_once(&runtime, &cluster, &plan, &options, &set, &events);
    assert!(again.ok, "{:?}", events.events());
    check_converged(&server, &plan, 0, 0);
}
