//! Deterministic JSON rendering with long-form intrinsic functions.

use crate::value::Value;

pub(crate) fn to_json(root: &Value) -> String {
    let mut s = serde_json::to_string_pretty(&to_json_value(root)).unwrap_or_default();
    s.push('\n');
    s
}

pub(crate) fn to_json_value(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => J::from(*n),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::String(s) => J::String(s.to_string()),
        Value::List(items) => J::Array(items.iter().map(to_json_value).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.to_string(), to_json_value(v)))
                .collect(),
        ),
        Value::Fn(f) => {
            let mut obj = serde_json::Map::new();
            obj.insert(f.long_name().to_owned(), to_json_value(&f.argument()));
            J::Object(obj)
        }
    }
}
