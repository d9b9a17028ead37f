//! Values of a template, with typed intrinsic functions.

/// An ordered map. Order is the order of construction (or of the parsed
/// file), which keeps rendering deterministic and readable.
pub use crate::map::Map;
pub use crate::packed::{PackedSlice, Str};
pub use compact_str::CompactString;

/// The items of a list value: a 12-byte boxed slice (see [`PackedSlice`]).
pub type List = PackedSlice<Value>;

/// Any value that can appear in a template: 16 bytes (a test holds it
/// there), so that a dense template's values cost little more than its
/// text (issue 16's memory bound).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Inline up to 8 bytes: no allocation.
    String(Str),
    List(List),
    Map(Map),
    Fn(Box<Intrinsic>),
}

/// The intrinsic functions and condition functions of CloudFormation.
///
/// 32 bytes (a test holds it there): names are [`Str`]s (inline up to 8
/// bytes) and the functions of two or three values keep them in a box of
/// their own, so that the common short ones (`!Ref x`, `!Sub x`,
/// `!GetAtt a.b`) cost one small block.
#[derive(Debug, Clone, PartialEq)]
pub enum Intrinsic {
    Ref(Str),
    GetAtt {
        resource: Str,
        attribute: Str,
    },
    /// `Fn::Sub` with a template string and optional variable map.
    Sub {
        template: Str,
        vars: Option<Map>,
    },
    Join {
        separator: Str,
        items: Value,
    },
    Select(Box<SelectArgs>),
    Split {
        separator: Str,
        source: Value,
    },
    GetAZs(Value),
    ImportValue(Value),
    Base64(Value),
    Cidr(Box<CidrArgs>),
    FindInMap(Box<FindInMapArgs>),
    If(Box<IfArgs>),
    Equals(Box<[Value; 2]>),
    Not(Value),
    And(Vec<Value>),
    Or(Vec<Value>),
    Condition(Str),
    /// A function the model does not type: the `Rules` functions,
    /// `AWS::LanguageExtensions` functions left unresolved, `Fn::Transform`,
    /// a macro's own functions, or a standard function of an unexpected
    /// shape (the parser notes why). Its value is only known at deploy time.
    Other {
        name: Str,
        arg: Value,
    },
}

/// `Fn::Select`'s arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectArgs {
    pub index: Value,
    pub list: Value,
}

/// `Fn::Cidr`'s arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct CidrArgs {
    pub block: Value,
    pub count: Value,
    pub bits: Value,
}

/// `Fn::FindInMap`'s arguments (without `DefaultValue`, which
/// `AWS::LanguageExtensions` resolves before the model sees it).
#[derive(Debug, Clone, PartialEq)]
pub struct FindInMapArgs {
    pub map: Value,
    pub top: Value,
    pub second: Value,
}

/// `Fn::If`'s arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct IfArgs {
    pub condition: Str,
    pub then: Value,
    pub otherwise: Value,
}

impl Intrinsic {
    /// The long-form name (`Ref`, `Fn::GetAtt`, `Condition`, ...).
    pub fn long_name(&self) -> &str {
        match self {
            Intrinsic::Ref(_) => "Ref",
            Intrinsic::GetAtt { .. } => "Fn::GetAtt",
            Intrinsic::Sub { .. } => "Fn::Sub",
            Intrinsic::Join { .. } => "Fn::Join",
            Intrinsic::Select { .. } => "Fn::Select",
            Intrinsic::Split { .. } => "Fn::Split",
            Intrinsic::GetAZs(_) => "Fn::GetAZs",
            Intrinsic::ImportValue(_) => "Fn::ImportValue",
            Intrinsic::Base64(_) => "Fn::Base64",
            Intrinsic::Cidr { .. } => "Fn::Cidr",
            Intrinsic::FindInMap { .. } => "Fn::FindInMap",
            Intrinsic::If { .. } => "Fn::If",
            Intrinsic::Equals(..) => "Fn::Equals",
            Intrinsic::Not(_) => "Fn::Not",
            Intrinsic::And(_) => "Fn::And",
            Intrinsic::Or(_) => "Fn::Or",
            Intrinsic::Condition(_) => "Condition",
            Intrinsic::Other { name, .. } => name,
        }
    }

    /// The YAML short-form tag without the `!`.
    pub fn short_tag(&self) -> &str {
        let long = self.long_name();
        long.strip_prefix("Fn::").unwrap_or(long)
    }

    /// The argument of the function in its canonical (long-form) shape.
    pub fn argument(&self) -> Value {
        use Intrinsic::*;
        match self {
            Ref(name) | Condition(name) => Value::String(name.as_str().into()),
            GetAtt {
                resource,
                attribute,
            } => Value::list(vec![resource.as_str().into(), attribute.as_str().into()]),
            Sub { template, vars } => match vars {
                None => Value::String(template.as_str().into()),
                Some(vars) => Value::list(vec![template.as_str().into(), Value::Map(vars.clone())]),
            },
            Join { separator, items } => {
                Value::list(vec![separator.as_str().into(), items.clone()])
            }
            Select(a) => Value::list(vec![a.index.clone(), a.list.clone()]),
            Split { separator, source } => {
                Value::list(vec![separator.as_str().into(), source.clone()])
            }
            GetAZs(v) | ImportValue(v) | Base64(v) => v.clone(),
            Not(v) => Value::list(vec![v.clone()]),
            Cidr(a) => Value::list(vec![a.block.clone(), a.count.clone(), a.bits.clone()]),
            FindInMap(a) => Value::list(vec![a.map.clone(), a.top.clone(), a.second.clone()]),
            If(a) => Value::list(vec![
                a.condition.as_str().into(),
                a.then.clone(),
                a.otherwise.clone(),
            ]),
            Equals(pair) => Value::list(pair.to_vec()),
            And(items) | Or(items) => Value::List(items.iter().cloned().collect()),
            Other { arg, .. } => arg.clone(),
        }
    }
}

impl Intrinsic {
    /// The values among the arguments, to change them in place (strings that
    /// are part of the function itself, like a `Ref` target, are not values).
    pub fn args_mut(&mut self) -> Vec<&mut Value> {
        use Intrinsic::*;
        match self {
            Ref(_) | Condition(_) | GetAtt { .. } => Vec::new(),
            Sub { vars, .. } => vars
                .as_mut()
                .map(|v| v.values_mut().collect())
                .unwrap_or_default(),
            Join { items: v, .. }
            | Split { source: v, .. }
            | GetAZs(v)
            | ImportValue(v)
            | Base64(v)
            | Not(v)
            | Other { arg: v, .. } => vec![v],
            Select(a) => vec![&mut a.index, &mut a.list],
            Cidr(a) => vec![&mut a.block, &mut a.count, &mut a.bits],
            FindInMap(a) => vec![&mut a.map, &mut a.top, &mut a.second],
            If(a) => vec![&mut a.then, &mut a.otherwise],
            Equals(pair) => pair.iter_mut().collect(),
            And(items) | Or(items) => items.iter_mut().collect(),
        }
    }

    /// The long-form name and argument, moving the argument out (no copy).
    pub fn into_parts(self) -> (String, Value) {
        use Intrinsic::*;
        let name = self.long_name().to_owned();
        let arg = match self {
            Ref(n) | Condition(n) => Value::String(n),
            GetAtt {
                resource,
                attribute,
            } => Value::list(vec![resource.into(), attribute.into()]),
            Sub { template, vars } => match vars {
                None => Value::String(template),
                Some(vars) => Value::list(vec![template.into(), Value::Map(vars)]),
            },
            Join { separator, items } => Value::list(vec![separator.into(), items]),
            Select(a) => {
                let SelectArgs { index, list } = *a;
                Value::list(vec![index, list])
            }
            Split { separator, source } => Value::list(vec![separator.into(), source]),
            GetAZs(v) | ImportValue(v) | Base64(v) => v,
            Not(v) => Value::list(vec![v]),
            Cidr(a) => {
                let CidrArgs { block, count, bits } = *a;
                Value::list(vec![block, count, bits])
            }
            FindInMap(a) => {
                let FindInMapArgs { map, top, second } = *a;
                Value::list(vec![map, top, second])
            }
            If(a) => {
                let IfArgs {
                    condition,
                    then,
                    otherwise,
                } = *a;
                Value::list(vec![condition.into(), then, otherwise])
            }
            Equals(pair) => Value::list(Vec::from(*pair as [Value; 2])),
            And(items) | Or(items) => Value::List(items.into()),
            Other { arg, .. } => arg,
        };
        (name, arg)
    }
}

impl Value {
    /// A list value of these items.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(items.into())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_fn(&self) -> Option<&Intrinsic> {
        match self {
            Value::Fn(f) => Some(f),
            _ => None,
        }
    }

    /// Looks a key up when the value is a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Visits this value and every value nested in it, depth first.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Value)) {
        visit(self);
        match self {
            Value::List(items) => items.iter().for_each(|v| v.walk(visit)),
            Value::Map(map) => map.values().for_each(|v| v.walk(visit)),
            Value::Fn(f) => walk_fn(f, visit),
            _ => {}
        }
    }
}

fn walk_fn<'a>(f: &'a Intrinsic, visit: &mut dyn FnMut(&'a Value)) {
    use Intrinsic::*;
    match f {
        Ref(_) | GetAtt { .. } | Condition(_) => {}
        Sub { vars, .. } => {
            if let Some(vars) = vars {
                vars.values().for_each(|v| v.walk(visit));
            }
        }
        Join { items: v, .. }
        | Split { source: v, .. }
        | GetAZs(v)
        | ImportValue(v)
        | Base64(v)
        | Not(v)
        | Other { arg: v, .. } => v.walk(visit),
        Select(a) => {
            a.index.walk(visit);
            a.list.walk(visit);
        }
        Cidr(a) => {
            a.block.walk(visit);
            a.count.walk(visit);
            a.bits.walk(visit);
        }
        FindInMap(a) => {
            a.map.walk(visit);
            a.top.walk(visit);
            a.second.walk(visit);
        }
        If(a) => {
            a.then.walk(visit);
            a.otherwise.walk(visit);
        }
        Equals(pair) => pair.iter().for_each(|v| v.walk(visit)),
        And(items) | Or(items) => items.iter().for_each(|v| v.walk(visit)),
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::String(s.as_str().into())
    }
}
impl From<Str> for Value {
    fn from(s: Str) -> Self {
        Value::String(s)
    }
}
impl From<CompactString> for Value {
    fn from(s: CompactString) -> Self {
        Value::String(s.as_str().into())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(i64::from(n))
    }
}
impl From<u16> for Value {
    fn from(n: u16) -> Self {
        Value::Int(i64::from(n))
    }
}
impl From<Intrinsic> for Value {
    fn from(f: Intrinsic) -> Self {
        Value::Fn(Box::new(f))
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}
