//! The set's members as the server holds them: one LIST per group-kind per run, by the
//! ApplySet `part-of` label, shared by the no-op fast path (compare each object's
//! applied-hash) and pruning (find members no longer desired).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::OnceCell;

use super::client::{ApiClient, RequestError};
use super::resource::Resource;
use crate::render::ownership::PART_OF_LABEL;

type Listing = Arc<OnceCell<Result<Arc<Vec<Value>>, RequestError>>>;

/// Lists of members by group-kind, each fetched at most once.
pub(crate) struct LiveSet {
    selector: String,
    lists: Mutex<HashMap<String, Listing>>,
}

impl LiveSet {
    /// Members of the ApplySet `applyset_id`.
    pub(crate) fn new(applyset_id: &str) -> LiveSet {
        LiveSet {
            selector: format!("{PART_OF_LABEL}={applyset_id}"),
            lists: Mutex::new(HashMap::new()),
        }
    }

    /// The members of `resource`'s group-kind, in every namespace.
    pub(crate) async fn members(
        &self,
        client: &ApiClient,
        resource: &Resource,
    ) -> Result<Arc<Vec<Value>>, RequestError> {
        let cell = self
            .lists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(resource.group_kind())
            .or_default()
            .clone();
        cell.get_or_init(|| async {
            client
                .list(&resource.collection_path(None), Some(&self.selector), None)
                .await
                .map(Arc::new)
        })
        .await
        .clone()
    }
}

/// The member named `namespace`/`name` in a listing.
pub(crate) fn find<'a>(
    items: &'a [Value],
    namespace: Option<&str>,
    name: &str,
) -> Option<&'a Value> {
    items.iter().find(|o| {
        o.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
            && o.pointer("/metadata/namespace").and_then(Value::as_str) == namespace
    })
}
