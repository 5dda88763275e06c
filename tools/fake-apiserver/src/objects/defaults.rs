//! The few defaults a real server fills in that clients commonly read back
//! (replica counts for readiness, a Service's type and cluster IP, a
//! Secret's type, Job completions). Defaulted fields have no owner, as on a
//! real server for applied objects. A Secret's `stringData` is folded into
//! `data` (base64), as the real server does. Key fields of associative lists
//! get their schema defaults (port protocols), which server-side apply
//! already keys items by.

use serde_json::{json, Value};

use crate::apply::walk::fill_key_defaults;
use crate::apply::Schema;
use crate::resources::ResourceType;
use crate::rng::Rng;

pub fn apply_defaults(rt: &ResourceType, obj: &mut Value, rng: &mut Rng) {
    if !rt.builtin {
        return;
    }
    fill_key_defaults(obj, Schema::builtin(&rt.api_version(), &rt.kind));
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
        ("", "Secret") => {
            if missing(obj, &["type"]) {
                obj["type"] = json!("Opaque");
            }
            fold_string_data(obj);
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

fn fold_string_data(secret: &mut Value) {
    let Some(Value::Object(plain)) = secret.as_object_mut().and_then(|m| m.remove("stringData"))
    else {
        return;
    };
    if !secret["data"].is_object() {
        secret["data"] = json!({});
    }
    for (k, v) in plain {
        let text = v
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string());
        secret["data"][k] = json!(base64(text.as_bytes()));
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_type as rt;

    #[test]
    fn service_gets_cluster_ip_once() {
        let mut rng = Rng::new(1);
        let mut svc = json!({"spec": {"ports": [{"port": 80}]}});
        apply_defaults(&rt("Service"), &mut svc, &mut rng);
        let ip = svc["spec"]["clusterIP"].clone();
        assert!(ip.as_str().unwrap().starts_with("10.96."));
        apply_defaults(&rt("Service"), &mut svc, &mut rng);
        assert_eq!(svc["spec"]["clusterIP"], ip);
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"port": 80, "protocol": "TCP"}])
        );
    }

    #[test]
    fn secret_string_data_becomes_data() {
        let mut s = json!({"stringData": {"a": "hi", "b": "hello"}, "data": {"c": "eA=="}});
        apply_defaults(&rt("Secret"), &mut s, &mut Rng::new(1));
        assert_eq!(
            s["data"],
            json!({"c": "eA==", "a": "aGk=", "b": "aGVsbG8="})
        );
        assert!(s.get("stringData").is_none());
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }

    #[test]
    fn deployment_replicas_default_to_one() {
        let mut d = json!({"spec": {}});
        apply_defaults(&rt("Deployment"), &mut d, &mut Rng::new(1));
        assert_eq!(d["spec"]["replicas"], 1);
    }
}
