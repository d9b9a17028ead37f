//! Short constructors that keep blueprint code close to the YAML it produces.

use crate::value::{IfArgs, Intrinsic, Map, SelectArgs, Str, Value};

/// Builds a [`Map`] in the order written: `map! { "Key" => value, ... }`.
#[macro_export]
macro_rules! map {
    () => { $crate::Map::new() };
    ($($key:expr => $value:expr),+ $(,)?) => {{
        let mut m = $crate::Map::new();
        $( m.insert(::std::string::String::from($key).into(), $crate::Value::from($value)); )+
        m
    }};
}

/// `!Ref name`
pub fn r#ref(name: impl Into<Str>) -> Value {
    Intrinsic::Ref(name.into()).into()
}

/// `!GetAtt resource.attribute`
pub fn get_att(resource: impl Into<Str>, attribute: impl Into<Str>) -> Value {
    Intrinsic::GetAtt {
        resource: resource.into(),
        attribute: attribute.into(),
    }
    .into()
}

/// `!Sub template`
pub fn sub(template: impl Into<Str>) -> Value {
    Intrinsic::Sub {
        template: template.into(),
        vars: None,
    }
    .into()
}

/// `!ImportValue name` with a literal export name.
pub fn import(export_name: impl Into<Str>) -> Value {
    Intrinsic::ImportValue(Value::String(export_name.into())).into()
}

/// `!Join [separator, items]`
pub fn join(separator: impl Into<Str>, items: Vec<Value>) -> Value {
    Intrinsic::Join {
        separator: separator.into(),
        items: Value::list(items),
    }
    .into()
}

/// `!Select [index, list]`
pub fn select(index: i64, list: Value) -> Value {
    Intrinsic::Select(Box::new(SelectArgs {
        index: Value::Int(index),
        list,
    }))
    .into()
}

/// `!GetAZs region` (empty string: the stack's region).
pub fn get_azs(region: impl Into<Str>) -> Value {
    Intrinsic::GetAZs(Value::String(region.into())).into()
}

/// `!If [condition, then, otherwise]`
pub fn if_(condition: impl Into<Str>, then: Value, otherwise: Value) -> Value {
    Intrinsic::If(Box::new(IfArgs {
        condition: condition.into(),
        then,
        otherwise,
    }))
    .into()
}

/// `!Equals [a, b]`
pub fn equals(a: Value, b: Value) -> Value {
    Intrinsic::Equals(Box::new([a, b])).into()
}

/// A `Tags` list from key/value pairs, in the order given.
pub fn tags<K: Into<Str>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Value {
    Value::List(
        pairs
            .into_iter()
            .map(|(k, v)| {
                let mut m = Map::new();
                m.insert("Key".into(), Value::String(k.into()));
                m.insert("Value".into(), v.into());
                Value::Map(m)
            })
            .collect(),
    )
}
