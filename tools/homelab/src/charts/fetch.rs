//! HTTP downloads for indexes and archives (blocking; a handful of files per run).

use std::io::Read;
use std::time::Duration;

/// The largest body accepted: big repository indexes run to tens of megabytes.
const MAX_BODY: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("Failed to download {url}: {message}")]
pub(crate) struct FetchError {
    pub url: String,
    pub message: String,
}

/// GETs `url` and returns its body.
pub(crate) fn get(url: &str) -> Result<Vec<u8>, FetchError> {
    let error = |message: String| FetchError {
        url: url.to_string(),
        message,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .timeout_connect(Some(Duration::from_secs(15)))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| error(e.to_string()))?;
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| error(e.to_string()))?;
    if body.len() as u64 > MAX_BODY {
        return Err(error(format!("the body is larger than {MAX_BODY} bytes")));
    }
    Ok(body)
}
