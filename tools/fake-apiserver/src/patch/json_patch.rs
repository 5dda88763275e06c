//! JSON patch (RFC 6902): add, remove, replace, move, copy, test, applied in
//! order; the first failing operation fails the whole patch.

use serde_json::Value;

use super::PatchError;

pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let ops = patch.as_array().ok_or_else(|| {
        PatchError::Malformed("a JSON patch must be an array of operations".into())
    })?;
    let mut work = target.clone();
    for (index, op) in ops.iter().enumerate() {
        let name = op["op"].as_str().unwrap_or_default().to_owned();
        let fail = |reason: String| PatchError::Operation {
            index,
            op: name.clone(),
            reason,
        };
        let path = op["path"]
            .as_str()
            .ok_or_else(|| fail("missing \"path\"".into()))?;
        match name.as_str() {
            "add" => add(&mut work, path, value(op).map_err(fail)?).map_err(fail)?,
            "remove" => {
                take(&mut work, path).map_err(fail)?;
            }
            "replace" => {
                take(&mut work, path).map_err(fail)?;
                add(&mut work, path, value(op).map_err(fail)?).map_err(fail)?;
            }
            "move" | "copy" => {
                let from = op["from"]
                    .as_str()
                    .ok_or_else(|| fail("missing \"from\"".into()))?;
                let v = if name == "move" {
                    take(&mut work, from).map_err(fail)?
                } else {
                    work.pointer(from)
                        .cloned()
                        .ok_or_else(|| fail(format!("path {from} does not exist")))?
                };
                add(&mut work, path, v).map_err(fail)?;
            }
            "test" => {
                let expected = value(op).map_err(fail)?;
                if work.pointer(path) != Some(&expected) {
                    return Err(fail(format!("value at {path} is not the expected one")));
                }
            }
            other => return Err(fail(format!("unknown operation {other:?}"))),
        }
    }
    *target = work;
    Ok(())
}

fn value(op: &Value) -> Result<Value, String> {
    op.get("value")
        .cloned()
        .ok_or_else(|| "missing \"value\"".to_owned())
}

fn split(path: &str) -> Result<(&str, String), String> {
    let i = path
        .rfind('/')
        .ok_or_else(|| format!("invalid path {path:?}"))?;
    let last = path[i + 1..].replace("~1", "/").replace("~0", "~");
    Ok((&path[..i], last))
}

fn add(doc: &mut Value, path: &str, v: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (parent, last) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(last, v);
            Ok(())
        }
        Some(Value::Array(a)) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>()
                    .map_err(|_| format!("invalid index {last:?}"))?
            };
            if i > a.len() {
                return Err(format!("index {i} is out of bounds"));
            }
            a.insert(i, v);
            Ok(())
        }
        _ => Err(format!("path {parent:?} does not exist")),
    }
}

fn take(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => m
            .remove(&last)
            .ok_or_else(|| format!("path {path:?} does not exist")),
        Some(Value::Array(a)) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid index {last:?}"))?;
            if i >= a.len() {
                return Err(format!("index {i} is out of bounds"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("path {parent:?} does not exist")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ops_apply_in_order() {
        let mut d = json!({"a": {"b": 1}, "l": [1, 2]});
        let p = json!([
            {"op": "add", "path": "/a/c", "value": 2},
            {"op": "remove", "path": "/a/b"},
            {"op": "add", "path": "/l/-", "value": 3},
            {"op": "replace", "path": "/l/0", "value": 0},
            {"op": "move", "from": "/a/c", "path": "/m"},
            {"op": "test", "path": "/m", "value": 2}
        ]);
        json_patch(&mut d, &p).unwrap();
        assert_eq!(d, json!({"a": {}, "l": [0, 2, 3], "m": 2}));
    }

    #[test]
    fn failing_op_leaves_document_untouched() {
        let mut d = json!({"a": 1});
        let err = json_patch(
            &mut d,
            &json!([{"op": "add", "path": "/b", "value": 1},
            {"op": "remove", "path": "/zz"}]),
        )
        .unwrap_err();
        assert!(matches!(err, PatchError::Operation { index: 1, .. }));
        assert_eq!(d, json!({"a": 1}));
    }
}
