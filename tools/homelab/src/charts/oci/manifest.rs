//! What a chart's manifest says: which layer is the chart archive.

use serde::Deserialize;

use crate::charts::digest;

/// The layer media types Helm writes (the second is Helm 3.0–3.7's).
const CHART_LAYER: [&str; 2] = [
    "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
    "application/tar+gzip",
];
const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
/// A chart's manifest: its own digest and its archive layer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChartManifest {
    pub digest: String,
    pub archive: String,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    digest: String,
}

/// Reads a manifest body: the chart layer's digest, or why it is not a chart.
pub fn parse_manifest(body: &[u8]) -> Result<String, String> {
    let manifest: Manifest =
        serde_json::from_slice(body).map_err(|e| format!("not a JSON manifest ({e})"))?;
    if let Some(config) = &manifest.config {
        if config.media_type != HELM_CONFIG && !config.media_type.is_empty() {
            return Err(format!(
                "its config is `{}`, not `{HELM_CONFIG}` (is it a container image?)",
                config.media_type
            ));
        }
    }
    let layer = manifest
        .layers
        .iter()
        .find(|l| CHART_LAYER.contains(&l.media_type.as_str()))
        .ok_or_else(|| format!("no layer of type `{}`", CHART_LAYER[0]))?;
    digest::hex_part(&layer.digest)
        .filter(|_| layer.digest.starts_with("sha256:"))
        .map(|hex| format!("sha256:{hex}"))
        .ok_or_else(|| format!("the chart layer's digest `{}` is not sha256", layer.digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests() {
        let layer = format!("sha256:{}", "b".repeat(64));
        let chart = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{HELM_CONFIG}","digest":"sha256:00"}},
               "layers":[{{"mediaType":"{}","digest":"{layer}"}}]}}"#,
            CHART_LAYER[0]
        );
        assert_eq!(parse_manifest(chart.as_bytes()), Ok(layer));
        let image =
            r#"{"config":{"mediaType":"application/vnd.oci.image.config.v1+json"},"layers":[]}"#;
        assert!(parse_manifest(image.as_bytes())
            .unwrap_err()
            .contains("container image"));
        assert!(parse_manifest(b"{\"layers\":[]}")
            .unwrap_err()
            .contains("no layer"));
        assert!(parse_manifest(b"<html>")
            .unwrap_err()
            .contains("not a JSON manifest"));
    }
}
