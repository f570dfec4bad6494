//! A profile's YAML tree, walked: its leaves' dotted paths, a node by path, a value as
//! flow-style YAML.

use serde_yaml::Value;

/// The dotted paths of a YAML tree's leaves (a sequence is one), in order.
pub(super) fn leaves_of(node: &Value, at: &str, out: &mut Vec<String>) {
    match node {
        Value::Mapping(map) => {
            for (key, value) in map {
                let key = key.as_str().unwrap_or_default();
                let path = if at.is_empty() {
                    key.to_owned()
                } else {
                    format!("{at}.{key}")
                };
                leaves_of(value, &path, out);
            }
        }
        _ => out.push(at.to_owned()),
    }
}

/// A key's value in flow-style YAML (`None` when unset).
pub(super) fn yaml_value(node: &Value) -> Option<String> {
    match node {
        Value::Null => None,
        Value::Sequence(items) if items.is_empty() => Some("[]".to_owned()),
        Value::Sequence(items) if items.iter().all(Value::is_string) => {
            let each: Vec<String> = items.iter().filter_map(scalar).collect();
            Some(format!("[{}]", each.join(", ")))
        }
        Value::Sequence(_) | Value::Mapping(_) => serde_json::to_string(node).ok(),
        other => scalar(other),
    }
}

/// The node of key `path` (dotted) in a profile's YAML tree.
pub(super) fn node_at<'t>(tree: &'t Value, path: &str) -> Option<&'t Value> {
    path.split('.').try_fold(tree, |node, part| node.get(part))
}

/// A scalar as YAML writes it (quoted where it must be).
fn scalar(value: &Value) -> Option<String> {
    serde_yaml::to_string(value)
        .ok()
        .map(|s| s.trim_end().to_owned())
}
