//! Resource properties against the official resource provider schemas.
//!
//! Three sources, all vendored (scripts/refresh-schemas.sh): the whole
//! schemas of the types apprun emits (and a few more); the top level of the
//! schema of every other type of the vendored regions (resource-schemas.tsv:
//! top-level properties with their own type, enum, pattern and limits,
//! required, read-only and refused properties; nested shapes unchecked); and
//! SAM's published schema for `AWS::Serverless::*` resources and `Globals`.
//! A template with a macro in its `Transform` section is not checked here:
//! only its expansion could be. Module and third-party registry types get a
//! warning (they must be registered where the stack deploys).
//!
//! Supported keywords (all the vendored schemas use): type, enum, pattern
//! (searched, as JSON Schema does; patterns Rust's regex cannot compile are
//! skipped), min/maxLength, minimum/maximum, min/maxItems, items,
//! properties, required, additionalProperties, patternProperties, $ref to
//! definitions, oneOf/anyOf/allOf, `format: json` (an object that may be
//! given as JSON text). Values that are intrinsic functions are
//! not validated: their result is only known at deploy time.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use apprun_template::{Counted, References, Template, Value};
use regex::Regex;
use serde_json::Value as J;

use crate::finding::Finding;
use crate::sink::Findings;

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

/// Types whose every property is also a GetAtt attribute (cfn-lint's list).
const ALL_PROPERTIES_ARE_ATTRIBUTES: &[&str] = &[
    "AWS::EC2::Instance",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::SSM::Parameter",
    "AWS::RDS::DBInstance",
];

struct Registry {
    texts: HashMap<&'static str, &'static str>,
    /// Every type of the vendored regions: the top level of its schema.
    tops: HashMap<&'static str, &'static str>,
    parsed: Mutex<HashMap<&'static str, Arc<J>>>,
    parsed_tops: Mutex<HashMap<&'static str, Arc<J>>>,
    patterns: Mutex<HashMap<String, Option<Regex>>>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry {
        texts: SCHEMAS.iter().copied().collect(),
        tops: TYPE_SCHEMAS
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .collect(),
        parsed: Mutex::new(HashMap::new()),
        parsed_tops: Mutex::new(HashMap::new()),
        patterns: Mutex::new(HashMap::new()),
    })
}

/// The schema a type's properties are checked against: its whole schema
/// when vendored (the types apprun emits and a few more), else the top level
/// of its schema from the index of every type (nested shapes unchecked).
/// The value rules read property shapes from here.
pub(crate) fn property_schema(kind: &str) -> Option<Arc<J>> {
    if let Some(s) = schema_of(kind) {
        return Some(s);
    }
    let r = registry();
    let (&name, &text) = r.tops.get_key_value(kind)?;
    let mut parsed = r.parsed_tops.lock().ok()?;
    if let Some(s) = parsed.get(name) {
        return Some(s.clone());
    }
    let s = Arc::new(serde_json::from_str(text).ok()?);
    parsed.insert(name, Arc::clone(&s));
    Some(s)
}

/// SAM's schema and, per `AWS::Serverless::*` type, the definition of its
/// `Properties` (read from the schema's `...__Resource` definitions).
struct Sam {
    schema: J,
    properties: HashMap<String, String>,
}

fn sam() -> Option<&'static Sam> {
    static S: OnceLock<Option<Sam>> = OnceLock::new();
    S.get_or_init(|| {
        let schema: J = serde_json::from_str(SAM_SCHEMA).ok()?;
        let properties = schema["definitions"]
            .as_object()?
            .iter()
            .filter(|(name, _)| name.ends_with("__Resource"))
            .filter_map(|(_, def)| {
                let kind = def.pointer("/properties/Type/enum/0")?.as_str()?;
                let props = def.pointer("/properties/Properties/$ref")?.as_str()?;
                Some((kind.to_owned(), props.to_owned()))
            })
            .collect();
        Some(Sam { schema, properties })
    })
    .as_ref()
}

/// Whether SAM's transform expands this type.
pub(crate) fn is_serverless_type(kind: &str) -> bool {
    sam().is_some_and(|s| s.properties.contains_key(kind))
}

/// The schema of a resource type, when vendored.
pub(crate) fn schema_of(kind: &str) -> Option<Arc<J>> {
    let r = registry();
    let (&name, &text) = r.texts.get_key_value(kind)?;
    let mut parsed = r.parsed.lock().ok()?;
    if let Some(s) = parsed.get(name) {
        return Some(s.clone());
    }
    let s = Arc::new(serde_json::from_str(text).ok()?);
    parsed.insert(name, Arc::clone(&s));
    Some(s)
}

/// Whether CloudFormation knows the type at all (any vendored region).
pub(crate) fn is_known_type(kind: &str) -> bool {
    kind.starts_with("Custom::")
        || kind == "AWS::CloudFormation::CustomResource"
        || registry().tops.contains_key(kind)
}

/// How a resource type is known before deployment.
enum TypeKind {
    /// A public type of CloudFormation's registry (or a custom resource).
    Public,
    /// A type SAM's transform expands (valid only with that transform).
    Serverless,
    /// A module or a third-party/private registry type
    /// (`Org::Service::Thing[::MODULE]`): valid once registered in the
    /// account, which only the deployment can tell.
    Registry,
    Unknown,
}

fn type_kind(kind: &str, t: &Template) -> TypeKind {
    if is_known_type(kind) {
        TypeKind::Public
    } else if is_serverless_type(kind)
        && t.transforms
            .iter()
            .any(|x| x == apprun_template::SERVERLESS)
    {
        TypeKind::Serverless
    } else if !kind.starts_with("AWS::")
        && !kind.starts_with("Alexa::")
        && (3..=4).contains(&kind.split("::").count())
        && kind
            .split("::")
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        TypeKind::Registry
    } else {
        TypeKind::Unknown
    }
}

/// The attributes `Fn::GetAtt` accepts for a type (its read-only
/// properties), when its schema lists any.
pub(crate) fn attributes_of(kind: &str) -> Option<BTreeSet<String>> {
    let s = property_schema(kind)?;
    let mut attrs: BTreeSet<String> = s["readOnlyProperties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(J::as_str)
        .map(|p| p.trim_start_matches("/properties/").replace('/', "."))
        .collect();
    if attrs.is_empty() && !ALL_PROPERTIES_ARE_ATTRIBUTES.contains(&kind) {
        return None;
    }
    if ALL_PROPERTIES_ARE_ATTRIBUTES.contains(&kind)
        && let Some(props) = s["properties"].as_object()
    {
        attrs.extend(props.keys().cloned());
    }
    Some(attrs)
}

fn pattern(p: &str) -> Option<Regex> {
    let r = registry();
    let mut cache = r.patterns.lock().ok()?;
    cache
        .entry(p.to_owned())
        .or_insert_with(|| Regex::new(&without_length_lookahead(p)).ok())
        .clone()
}

/// Several schemas open a pattern with `^(?=.{2,256}$)`, a lookahead that
/// only restates minLength/maxLength (checked on their own) and that Rust's
/// regex cannot compile. Dropping exactly that form keeps the rest usable.
fn without_length_lookahead(p: &str) -> String {
    static LOOKAHEAD: OnceLock<Option<Regex>> = OnceLock::new();
    let re = LOOKAHEAD.get_or_init(|| Regex::new(r"^\^\(\?=\.\{\d*,?\d*\}\$\)").ok());
    match re {
        Some(re) => re.replace(p, "^").into_owned(),
        None => p.to_owned(),
    }
}

pub(crate) fn check(t: &Template, out: &mut Findings) {
    // A macro may rewrite any resource: only its output can be checked.
    if t.has_macros() {
        return;
    }
    for (id, r) in &t.resources {
        let path = format!("Resources/{id}");
        match type_kind(&r.kind, t) {
            TypeKind::Public => {}
            TypeKind::Serverless => {
                serverless(id, &r.kind, &r.properties, out);
                ignored_globals(t, id, r, out);
                continue;
            }
            TypeKind::Registry => {
                let what = if r.kind.ends_with("::MODULE") {
                    "a module"
                } else {
                    "a third-party or private registry type"
                };
                out.push(Finding::new(
                    "W-TYPE-REGISTRY",
                    crate::finding::Severity::Warning,
                    id,
                    format!("{path}/Type"),
                    format!(
                        "`{}` is {what}: it must be registered in the account and region the stack deploys to; its properties are not checked",
                        r.kind
                    ),
                ));
                continue;
            }
            TypeKind::Unknown => {
                let hint = if r.kind.starts_with("AWS::Serverless::") {
                    format!(" (it needs `Transform: {}`)", apprun_template::SERVERLESS)
                } else {
                    String::new()
                };
                out.push(Finding::error(
                    "E-TYPE-UNKNOWN",
                    id,
                    format!("{path}/Type"),
                    format!("`{}` is not a CloudFormation resource type{hint}", r.kind),
                ));
                continue;
            }
        }
        let Some(schema) = property_schema(&r.kind) else {
            continue;
        };
        let mut v = Validator {
            root: &schema,
            logical: id,
            out: &mut *out,
        };
        v.map(&r.properties, &schema, &format!("{path}/Properties"));
    }
    if let Some(globals) = t.sections.get("Globals")
        && let Some(sam) = sam()
    {
        let mut v = Validator {
            root: &sam.schema,
            logical: "",
            out: &mut *out,
        };
        v.value(globals, &sam.schema["properties"]["Globals"], "Globals");
    }
    check_get_atts(t, out);
}

/// SAM's `IgnoreGlobals`: `*`, or names of properties the `Globals`
/// section sets for this resource's type.
fn ignored_globals(t: &Template, id: &str, r: &apprun_template::Resource, out: &mut Findings) {
    let Some(ignored) = r.attribute("IgnoreGlobals") else {
        return;
    };
    let section = r.kind.trim_start_matches("AWS::Serverless::");
    let globals: BTreeSet<&str> = t
        .sections
        .get("Globals")
        .and_then(|g| g.get(section))
        .and_then(Value::as_map)
        .map(|m| m.keys().map(|k| k.as_str()).collect())
        .unwrap_or_default();
    let names: Vec<(String, &Value)> = match ignored {
        Value::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("Resources/{id}/IgnoreGlobals/{i}"), v))
            .collect(),
        v => vec![(format!("Resources/{id}/IgnoreGlobals"), v)],
    };
    for (path, v) in names {
        let Some(name) = v.as_str() else { continue };
        if name != "*" && !globals.contains(name) {
            out.push(Finding::error(
                "E-SAM-IGNORE-GLOBALS",
                id,
                path,
                format!(
                    "`{name}` is not a property the Globals section sets for {section}; it sets: {}",
                    globals.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
}

/// An `AWS::Serverless::*` resource's properties against SAM's schema.
fn serverless(id: &str, kind: &str, props: &apprun_template::Map, out: &mut Findings) {
    let Some(sam) = sam() else { return };
    let Some(def) = sam.properties.get(kind) else {
        return;
    };
    let reference = serde_json::json!({ "$ref": def });
    let mut found = Findings::default();
    let mut v = Validator {
        root: &sam.schema,
        logical: id,
        out: &mut found,
    };
    v.map(props, &reference, &format!("Resources/{id}/Properties"));
    // SAM refuses properties it does not define and missing required ones;
    // its schema is stricter than its translator about value shapes (it
    // still takes legacy forms such as `EndpointConfiguration: EDGE`), so
    // those are warnings (the ones counted past the limit too).
    let strict = |rule: &str| rule == "E-PROP-UNKNOWN" || rule == "E-PROP-REQUIRED";
    let (found, omitted) = found.into_parts();
    out.absorb(omitted, |rule, counted| {
        if strict(rule) {
            (rule, counted)
        } else {
            let found = counted.found;
            ("W-SAM-VALUE", Counted { found, errors: 0 })
        }
    });
    for mut f in found {
        if !strict(&f.rule) {
            f.rule = "W-SAM-VALUE".into();
            f.severity = crate::finding::Severity::Warning;
            f.message = format!(
                "{} (SAM's published schema; its translator may still accept it)",
                f.message
            )
            .into();
        }
        out.push(f);
    }
}

fn check_get_atts(t: &Template, out: &mut Findings) {
    let mut visit = |id: &str, path: String, refs: References<'_>| {
        for (resource, attribute) in refs.get_atts {
            let Some(target) = t.resources.get(resource) else {
                continue;
            };
            // A custom resource returns whatever attributes its code
            // chooses; a nested stack's (or provisioned product's) outputs are
            // only known once deployed.
            if target.kind.starts_with("Custom::")
                || target.kind == "AWS::CloudFormation::CustomResource"
            {
                continue;
            }
            let Some(attrs) = attributes_of(&target.kind) else {
                continue;
            };
            if attribute.starts_with("Outputs.")
                && (target.kind == "AWS::CloudFormation::Stack" || attrs.contains("Outputs"))
            {
                continue;
            }
            if !attrs.contains(attribute) {
                out.push(Finding::error(
                    "E-GETATT-ATTR",
                    id,
                    path.clone(),
                    format!(
                        "{} has no attribute `{attribute}` for GetAtt {resource}.{attribute}; it has: {}",
                        target.kind,
                        attrs.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    };
    for (id, r) in &t.resources {
        visit(
            id,
            format!("Resources/{id}/Properties"),
            References::of_map(&r.properties),
        );
    }
    for (id, o) in &t.outputs {
        visit(id, format!("Outputs/{id}/Value"), References::of(&o.value));
    }
}

struct Validator<'a, 'o> {
    root: &'a J,
    logical: &'a str,
    out: &'o mut Findings,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(f) if !f.is_finite() => {
            "infinity or NaN (JSON, and so CloudFormation, has neither)"
        }
        Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "array",
        Value::Map(_) => "object",
        Value::Fn(_) => "function",
    }
}

/// CloudFormation converts scalars between strings, numbers and booleans.
fn type_matches(v: &Value, want: &str) -> bool {
    match (want, v) {
        ("string", Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)) => true,
        ("integer", Value::Int(_)) => true,
        ("integer", Value::String(s)) => s.parse::<i64>().is_ok(),
        // JSON, which CloudFormation converts every template to, has no
        // infinity or NaN: YAML's `.inf` and `.nan` are no numbers there.
        ("number", Value::Int(_)) => true,
        ("number", Value::Float(f)) => f.is_finite(),
        ("number", Value::String(s)) => s.parse::<f64>().is_ok_and(f64::is_finite),
        ("boolean", Value::Bool(_)) => true,
        // YAML 1.1, which CloudFormation reads, also spells booleans
        // yes/no/on/off (the YAML reader here reads those as strings).
        ("boolean", Value::String(s)) => matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
        ),
        ("array", Value::List(_)) | ("object", Value::Map(_)) | ("null", Value::Null) => true,
        _ => false,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.as_str().into()),
        Value::Int(n) => Some(n.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(*n as f64),
        Value::Float(f) => Some(*f),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Follows `$ref: #/definitions/X` (repeatedly).
fn deref<'s>(root: &'s J, mut schema: &'s J) -> &'s J {
    for _ in 0..16 {
        match schema
            .get("$ref")
            .and_then(J::as_str)
            .and_then(|r| r.strip_prefix("#/"))
        {
            Some(pointer) => match root.pointer(&format!("/{pointer}")) {
                Some(target) => schema = target,
                None => return schema,
            },
            None => return schema,
        }
    }
    schema
}

impl<'a> Validator<'a, '_> {
    fn report(&mut self, rule: &str, path: &str, message: String) {
        self.out
            .push(Finding::error(rule, self.logical, path.to_owned(), message));
    }

    fn value(&mut self, v: &Value, schema: &'a J, path: &str) {
        let schema = deref(self.root, schema);
        if matches!(v, Value::Fn(_)) {
            return;
        }
        if !self.fits_a_branch(v, schema, path) {
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(J::as_array) {
            for b in all {
                self.value(v, b, path);
            }
        }
        let Some(types) = self.fits_type(v, schema, path) else {
            return;
        };
        self.allowed_value(v, schema, path);
        if let Value::String(s) = v {
            self.string(s, schema, path);
        }
        if types.iter().any(|t| *t == "integer" || *t == "number") {
            self.range(v, schema, path);
        }
        match v {
            Value::List(items) => self.array(items, schema, path),
            Value::Map(_) => self.object(v, schema, path),
            _ => {}
        }
    }

    /// `anyOf` and `oneOf`: whether `v` fits one of the branches (each tried
    /// on its own, its findings discarded); a finding when it fits none.
    fn fits_a_branch(&mut self, v: &Value, schema: &'a J, path: &str) -> bool {
        for key in ["anyOf", "oneOf"] {
            let Some(branches) = schema.get(key).and_then(J::as_array) else {
                continue;
            };
            let fits = branches.iter().any(|b| {
                let mut scratch = Findings::default();
                let mut sub = Validator {
                    root: self.root,
                    logical: self.logical,
                    out: &mut scratch,
                };
                sub.value(v, b, path);
                scratch.is_empty()
            });
            if !fits {
                self.report(
                    "E-PROP-TYPE",
                    path,
                    format!(
                        "value does not match any of the {} shapes the schema allows here",
                        branches.len()
                    ),
                );
                return false;
            }
        }
        true
    }

    /// The JSON types the schema allows here, when `v` is one of them
    /// (`None`, with a finding, when it is not).
    fn fits_type(&mut self, v: &Value, schema: &'a J, path: &str) -> Option<Vec<&'a str>> {
        let mut types: Vec<&str> = match schema.get("type") {
            Some(J::String(t)) => vec![t.as_str()],
            Some(J::Array(ts)) => ts.iter().filter_map(J::as_str).collect(),
            _ if schema.get("properties").is_some() => vec!["object"],
            _ => vec![],
        };
        // An object with `format: json` (a policy document, say) may also be
        // given as its JSON text.
        if types.contains(&"object") && schema.get("format").and_then(J::as_str) == Some("json") {
            types.push("string");
        }
        if !types.is_empty() && !types.iter().any(|t| type_matches(v, t)) {
            self.report(
                "E-PROP-TYPE",
                path,
                format!("expected {}, found {}", types.join(" or "), kind_of(v)),
            );
            return None;
        }
        Some(types)
    }

    /// `enum`: a scalar must be one of the listed values.
    fn allowed_value(&mut self, v: &Value, schema: &J, path: &str) {
        let (Some(allowed), Some(text)) =
            (schema.get("enum").and_then(J::as_array), scalar_text(v))
        else {
            return;
        };
        let ok = allowed.iter().any(|a| match a {
            J::String(s) => *s == text,
            other => {
                other
                    .as_f64()
                    .is_some_and(|n| text.parse::<f64>().ok() == Some(n))
                    || other
                        .as_bool()
                        .is_some_and(|b| text == if b { "true" } else { "false" })
            }
        });
        if !ok {
            let list: Vec<String> = allowed
                .iter()
                .map(|a| a.as_str().map_or(a.to_string(), str::to_owned))
                .collect();
            self.report(
                "E-PROP-ENUM",
                path,
                format!("`{text}` is not allowed; allowed: {}", list.join(", ")),
            );
        }
    }

    /// `pattern`, `minLength` and `maxLength` of a string.
    fn string(&mut self, s: &str, schema: &J, path: &str) {
        if let Some(p) = schema.get("pattern").and_then(J::as_str)
            && let Some(re) = pattern(p)
            && !re.is_match(s)
        {
            self.report(
                "E-PROP-PATTERN",
                path,
                format!("`{s}` does not match the pattern {p}"),
            );
        }
        let len = s.chars().count() as u64;
        self.limits(
            schema,
            path,
            ("minLength", "maxLength"),
            len,
            &format!("`{s}` is {len} characters"),
        );
    }

    /// `minimum` and `maximum` of a number (or of a string holding one).
    fn range(&mut self, v: &Value, schema: &J, path: &str) {
        let Some(n) = number(v) else {
            return;
        };
        if let Some(min) = schema.get("minimum").and_then(J::as_f64).filter(|m| n < *m) {
            self.report(
                "E-PROP-RANGE",
                path,
                format!("{n} is below the minimum {min}"),
            );
        }
        if let Some(max) = schema.get("maximum").and_then(J::as_f64).filter(|m| n > *m) {
            self.report(
                "E-PROP-RANGE",
                path,
                format!("{n} is above the maximum {max}"),
            );
        }
    }

    /// `minItems`, `maxItems` and `items` of a list.
    fn array(&mut self, items: &[Value], schema: &'a J, path: &str) {
        let n = items.len() as u64;
        self.limits(
            schema,
            path,
            ("minItems", "maxItems"),
            n,
            &format!("{n} items"),
        );
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.value(item, item_schema, &format!("{path}/{i}"));
            }
        }
    }

    /// `minLength`/`maxLength`, `minItems`/`maxItems`: `subject` says what was counted.
    fn limits(
        &mut self,
        schema: &J,
        path: &str,
        (min_key, max_key): (&str, &str),
        n: u64,
        subject: &str,
    ) {
        if let Some(min) = schema.get(min_key).and_then(J::as_u64).filter(|m| n < *m) {
            self.report(
                "E-PROP-LENGTH",
                path,
                format!("{subject}; at least {min} needed"),
            );
        }
        if let Some(max) = schema.get(max_key).and_then(J::as_u64).filter(|m| n > *m) {
            self.report(
                "E-PROP-LENGTH",
                path,
                format!("{subject}; at most {max} allowed"),
            );
        }
    }

    fn object(&mut self, v: &Value, schema: &'a J, path: &str) {
        if let Value::Map(map) = v {
            self.map(map, schema, path);
        }
    }

    /// [`Validator::object`] of a map held elsewhere (a resource's
    /// properties, checked without being copied into a value).
    fn map(&mut self, map: &apprun_template::Map, schema: &'a J, path: &str) {
        let schema = deref(self.root, schema);
        // An include macro (`Fn::Transform` beside other keys) adds keys
        // only known once expanded.
        if map.contains_key("Fn::Transform") {
            return;
        }
        let props = schema.get("properties").and_then(J::as_object);
        for req in schema
            .get("required")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(J::as_str)
        {
            if !map.contains_key(req) {
                self.report(
                    "E-PROP-REQUIRED",
                    path,
                    format!("required property `{req}` is missing"),
                );
            }
        }
        let patterns: Vec<(Regex, &J)> = schema
            .get("patternProperties")
            .and_then(J::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(p, s)| pattern(p).map(|re| (re, s)))
            .collect();
        let closed = schema.get("additionalProperties") == Some(&J::Bool(false));
        for (key, value) in map {
            let child = format!("{path}/{key}");
            if let Some(s) = props.and_then(|p| p.get(key.as_str())) {
                self.value(value, s, &child);
            } else if let Some((_, s)) = patterns.iter().find(|(re, _)| re.is_match(key)) {
                self.value(value, s, &child);
            } else if closed {
                let mut known: Vec<&str> = props
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.as_str())
                    .collect();
                known.sort();
                self.report(
                    "E-PROP-UNKNOWN",
                    &child,
                    format!(
                        "`{key}` is not a property here; allowed: {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_schema_parses_and_knows_its_type() {
        assert!(SCHEMAS.len() >= 30, "{}", SCHEMAS.len());
        for (name, _) in SCHEMAS {
            let s = schema_of(name).unwrap_or_else(|| panic!("{name} parses"));
            assert_eq!(s["typeName"], *name);
            assert!(is_known_type(name));
        }
        assert!(is_known_type("AWS::Lambda::Url") && !is_known_type("AWS::EC2::Vpc"));
        assert!(
            schema_of("AWS::DynamoDB::Table").is_none(),
            "not vendored whole"
        );
        let table = property_schema("AWS::DynamoDB::Table").unwrap();
        assert!(table["properties"]["TableName"].is_object());
        assert!(
            attributes_of("AWS::DynamoDB::Table")
                .unwrap()
                .contains("Arn")
        );
        assert!(is_serverless_type("AWS::Serverless::Function"));
        assert!(!is_serverless_type("AWS::Lambda::Function"));
        let attrs = attributes_of("AWS::AppRunner::Service").unwrap();
        assert!(attrs.contains("ServiceUrl") && attrs.contains("ServiceArn"));
        assert!(
            attributes_of("AWS::EC2::VPC")
                .unwrap()
                .contains("CidrBlock")
        );
        assert_eq!(
            without_length_lookahead("^(?=.{2,256}$)([a-z0-9]+)$"),
            "^([a-z0-9]+)$"
        );
        assert_eq!(
            without_length_lookahead("(?=x)abc"),
            "(?=x)abc",
            "other lookaheads are left alone"
        );
    }
}
