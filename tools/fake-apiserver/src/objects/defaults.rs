//! The few defaults a real server fills in that clients commonly read back
//! (replica counts for readiness, a Service's type and cluster IP, a
//! Secret's type, Job completions). Defaulted fields have no owner, as on a
//! real server for applied objects. Key fields of associative lists (port
//! protocols) are deliberately not defaulted: that would change item keys.

use serde_json::{json, Value};

use crate::resources::ResourceType;
use crate::rng::Rng;

pub fn apply_defaults(rt: &ResourceType, obj: &mut Value, rng: &mut Rng) {
    if !rt.builtin {
        return;
    }
    let missing =
        |obj: &Value, path: &[&str]| path.iter().try_fold(obj, |v, k| v.get(*k)).is_none();
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet")
            if obj["spec"].is_object() && missing(obj, &["spec", "replicas"]) =>
        {
            obj["spec"]["replicas"] = json!(1);
        }
        ("batch", "Job") if obj["spec"].is_object() => {
            for (k, v) in [("completions", 1), ("parallelism", 1), ("backoffLimit", 6)] {
                if missing(obj, &["spec", k]) {
                    obj["spec"][k] = json!(v);
                }
            }
        }
        ("", "Secret") if missing(obj, &["type"]) => {
            obj["type"] = json!("Opaque");
        }
        ("", "Service") => {
            if !obj["spec"].is_object() {
                obj["spec"] = json!({});
            }
            if missing(obj, &["spec", "type"]) {
                obj["spec"]["type"] = json!("ClusterIP");
            }
            if missing(obj, &["spec", "sessionAffinity"]) {
                obj["spec"]["sessionAffinity"] = json!("None");
            }
            if missing(obj, &["spec", "clusterIP"]) && obj["spec"]["type"] != "ExternalName" {
                let n = rng.next_u64();
                let ip = format!("10.96.{}.{}", (n >> 8) % 256, n % 254 + 1);
                obj["spec"]["clusterIP"] = json!(ip);
                obj["spec"]["clusterIPs"] = json!([ip]);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_types;

    fn rt(kind: &str) -> ResourceType {
        builtin_types()
            .into_iter()
            .find(|t| t.kind == kind)
            .unwrap()
    }

    #[test]
    fn service_gets_cluster_ip_once() {
        let mut rng = Rng::new(1);
        let mut svc = json!({"spec": {"ports": [{"port": 80}]}});
        apply_defaults(&rt("Service"), &mut svc, &mut rng);
        let ip = svc["spec"]["clusterIP"].clone();
        assert!(ip.as_str().unwrap().starts_with("10.96."));
        apply_defaults(&rt("Service"), &mut svc, &mut rng);
        assert_eq!(svc["spec"]["clusterIP"], ip);
        assert_eq!(svc["spec"]["ports"], json!([{"port": 80}]));
    }

    #[test]
    fn deployment_replicas_default_to_one() {
        let mut d = json!({"spec": {}});
        apply_defaults(&rt("Deployment"), &mut d, &mut Rng::new(1));
        assert_eq!(d["spec"]["replicas"], 1);
    }
}
