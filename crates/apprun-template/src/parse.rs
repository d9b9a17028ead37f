//! Parsing templates back from YAML (short or long form) and JSON.
//!
//! Reading is tolerant: only text that is not YAML or JSON at all (or whose
//! root is not a mapping) is an error. Anything else a reader can get past —
//! a function call of the wrong shape, an unknown section, a resource
//! without a `Type` — becomes a [`Note`] on the template, and the rest of
//! the file is still read, so one construct never hides every other finding.

use std::collections::BTreeMap;

use crate::lang;
use crate::template::{Note, Output, Parameter, Resource, Template};
use crate::validate::Severity;
use crate::value::{Intrinsic, Map, Value};

mod json_events;
mod yaml_events;

/// Why a template could not be read at all.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("invalid YAML{}: {message}", at(*line, *column))]
    Yaml {
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("invalid JSON{}: {message}", at(*line, *column))]
    Json {
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("{path}: {message}")]
    Shape { path: String, message: String },
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l} column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

impl ParseError {
    /// The 1-based line of the error, when the reader knows it.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::Yaml { line, .. } | ParseError::Json { line, .. } => *line,
            ParseError::Shape { .. } => None,
        }
    }

    /// The 1-based column of the error, when the reader knows it.
    pub fn column(&self) -> Option<usize> {
        match self {
            ParseError::Yaml { column, .. } | ParseError::Json { column, .. } => *column,
            ParseError::Shape { .. } => None,
        }
    }
}

fn json_error(e: &serde_json::Error) -> ParseError {
    let known = e.line() > 0;
    ParseError::Json {
        message: strip_location(&e.to_string()),
        line: known.then(|| e.line()),
        column: known.then(|| e.column()),
    }
}

fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Nesting deeper than this is not read further (a note says so): no real
/// template comes close, and it bounds every recursive pass that follows.
pub const MAX_DEPTH: usize = 100;

/// CloudFormation reads a UTF-8 byte order mark as no text at all.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parses a template, choosing JSON when the text starts with `{`.
pub fn parse_template(text: &str) -> Result<Template, ParseError> {
    if without_bom(text).trim_start().starts_with('{') {
        parse_json(text)
    } else {
        parse_yaml(text)
    }
}

pub fn parse_yaml(text: &str) -> Result<Template, ParseError> {
    let text = without_bom(text);
    // Refused before the YAML library builds its tree: it slows down more
    // than linearly with nesting.
    if let Some((line, column)) = crate::limits::yaml_too_deep(text, MAX_DEPTH) {
        return Err(ParseError::Yaml {
            message: format!("nested deeper than {MAX_DEPTH} levels"),
            line: Some(line),
            column: Some(column),
        });
    }
    let transforms = {
        let mut first = Reader::new(Vec::new());
        // The main pass reports any error this one meets.
        transforms_of(yaml_events::Builder::new(text, &mut first).transform_section())
    };
    let mut reader = Reader::new(transforms);
    let root = yaml_events::Builder::new(text, &mut reader).document()?;
    reader.template(root)
}

pub fn parse_json(text: &str) -> Result<Template, ParseError> {
    let text = without_bom(text);
    let mut reader = Reader::new(transforms_of(json_events::transform_section(text)));
    let root = json_events::read(text, &mut reader)?;
    reader.template(root)
}

/// A YAML document as a [`Value`] (the renderer's tests read back what it
/// writes).
#[cfg(test)]
pub(crate) fn parse_yaml_value(text: &str) -> Result<Value, ParseError> {
    let mut reader = Reader::new(Vec::new());
    yaml_events::Builder::new(text, &mut reader).document()
}

/// A JSON document that is not a whole template (a policy document, say) as
/// a [`Value`], reading intrinsic functions in their long form.
pub fn parse_json_value(text: &str) -> Result<Value, ParseError> {
    let mut reader = Reader::new(Vec::new());
    let v = json_events::read(without_bom(text), &mut reader)?;
    match reader
        .notes
        .into_iter()
        .find(|n| n.severity == Severity::Error)
    {
        Some(n) => Err(ParseError::Shape {
            path: n.path,
            message: n.message,
        }),
        None => Ok(v),
    }
}

/// The names in a `Transform` section, read before the rest so that the
/// functions a transform adds are known while reading.
fn transforms_of(section: Option<Value>) -> Vec<String> {
    match section {
        Some(Value::String(s)) => vec![s.into()],
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.to_string()),
                Value::Map(m) => m.get("Name").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            })
            .collect(),
        Some(Value::Map(m)) => m
            .get("Name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// Functions every template may call.
const STANDARD_FUNCTIONS: &[&str] = &[
    "Ref",
    "Condition",
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::GetAtt",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::Sub",
    "Fn::If",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::Transform",
    "Fn::GetStackOutput",
];

/// Functions only the `Rules` section may call.
pub const RULE_FUNCTIONS: &[&str] = &[
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
];

/// Functions the `AWS::LanguageExtensions` transform adds.
pub const LANGUAGE_EXTENSION_FUNCTIONS: &[&str] = &["Fn::Length", "Fn::ToJsonString"];

/// Prefix of the `Fn::ForEach::<Name>` loop keys of `AWS::LanguageExtensions`.
pub const FOR_EACH: &str = "Fn::ForEach::";

pub const LANGUAGE_EXTENSIONS: &str = "AWS::LanguageExtensions";
pub const SERVERLESS: &str = "AWS::Serverless-2016-10-31";

/// Reads raw YAML/JSON into [`Value`]s, collecting what it could not read.
struct Reader {
    notes: Vec<Note>,
    language_extensions: bool,
    transforms: Vec<String>,
    /// An include macro supplies (part of) a section.
    section_macros: bool,
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}/{key}")
    }
}

impl Reader {
    fn new(transforms: Vec<String>) -> Self {
        Reader {
            notes: Vec::new(),
            language_extensions: transforms.iter().any(|t| t == LANGUAGE_EXTENSIONS),
            transforms,
            section_macros: false,
        }
    }

    fn note(&mut self, code: &'static str, path: &str, message: impl Into<String>) {
        self.notes.push(Note {
            severity: Severity::Error,
            code,
            path: path.to_owned(),
            line: None,
            message: message.into(),
        });
    }

    fn warn(&mut self, code: &'static str, path: &str, message: impl Into<String>) {
        self.notes.push(Note {
            severity: Severity::Warning,
            code,
            path: path.to_owned(),
            line: None,
            message: message.into(),
        });
    }

    fn too_deep(&mut self, path: &str, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            self.note(
                "E-TEMPLATE",
                path,
                format!("nested deeper than {MAX_DEPTH} levels; not read further"),
            );
            return true;
        }
        false
    }

    /// YAML merge keys (`<<`): the merged mappings' entries, unless the
    /// mapping sets them itself. Only `aws cloudformation package` and SAM CLI
    /// resolve them; the CloudFormation service does not read them.
    fn merge(&mut self, map: &mut Map, merged: Vec<Value>, path: &str) {
        self.warn(
            "W-YAML-MERGE",
            &child(path, "<<"),
            "YAML merge keys are resolved by `aws cloudformation package` and SAM CLI, not by CloudFormation itself; deploy the packaged template",
        );
        for source in merged {
            let maps = match source {
                Value::Map(m) => vec![m],
                Value::List(items) => items
                    .into_iter()
                    .filter_map(|i| match i {
                        Value::Map(m) => Some(m),
                        _ => None,
                    })
                    .collect(),
                _ => {
                    self.note("E-TEMPLATE", path, "a merge key (`<<`) must name mappings");
                    continue;
                }
            };
            for m in maps {
                for (k, v) in m {
                    map.entry(k).or_insert(v);
                }
            }
        }
    }

    /// A single-key map `{Ref: x}` or `{Fn::X: args}` is a function call;
    /// `Fn::ForEach::<Name>` keys are loops, expanded later, never calls.
    fn long_form(&mut self, map: Map, path: &str) -> Value {
        let is_fn = map.len() == 1
            && map.first().is_some_and(|(key, arg)| {
                key == "Ref"
                    || (key.starts_with("Fn::") && !key.starts_with(FOR_EACH))
                    || (key == "Condition" && matches!(arg, Value::String(_)))
            });
        if is_fn {
            // Moved out, not copied: reading stays linear in the text.
            if let Some((key, arg)) = map.into_iter().next() {
                return self.intrinsic(&key, arg, path);
            }
            return Value::Map(Map::new());
        }
        Value::Map(map)
    }

    /// A function call: typed when its shape is the documented one, else
    /// kept as [`Intrinsic::Other`] with a note saying what is wrong.
    fn intrinsic(&mut self, name: &str, arg: Value, path: &str) -> Value {
        let in_rules = path == "Rules" || path.starts_with("Rules/");
        if RULE_FUNCTIONS.contains(&name) && !in_rules {
            self.note(
                "E-FN",
                path,
                format!("{name} may only be used in the Rules section"),
            );
        } else if LANGUAGE_EXTENSION_FUNCTIONS.contains(&name) && !self.language_extensions {
            self.note(
                "E-FN",
                path,
                format!("{name} needs `Transform: {LANGUAGE_EXTENSIONS}`"),
            );
        } else if !STANDARD_FUNCTIONS.contains(&name)
            && !RULE_FUNCTIONS.contains(&name)
            && !LANGUAGE_EXTENSION_FUNCTIONS.contains(&name)
        {
            // A macro may define any function; without one, an unknown
            // name is an error.
            let macros = self
                .transforms
                .iter()
                .any(|t| t != LANGUAGE_EXTENSIONS && t != SERVERLESS);
            if !macros {
                self.note(
                    "E-FN",
                    path,
                    format!(
                        "unknown intrinsic function {name}; allowed: {}",
                        STANDARD_FUNCTIONS.join(", ")
                    ),
                );
            }
        }
        match typed(name, arg.clone(), self.language_extensions) {
            Ok(Some(f)) => Value::Fn(Box::new(f)),
            Ok(None) => other(name, arg),
            Err(message) => {
                self.note("E-FN", path, message);
                other(name, arg)
            }
        }
    }

    /// Reads the typed sections from a template's root value.
    fn template(mut self, root: Value) -> Result<Template, ParseError> {
        let Value::Map(mut root) = root else {
            return Err(shape("", "a template must be a mapping"));
        };
        if self.language_extensions {
            lang::expand(&mut root, &mut self.notes);
        }
        let mut t = Template {
            transforms: self.transforms.clone(),
            ..Template::default()
        };
        let has_resources = root.contains_key("Resources");
        // Sections are moved into the template, not copied: reading keeps
        // one tree at a time.
        for (key, v) in root {
            self.section(&mut t, &key, v);
        }
        if !has_resources {
            self.note(
                "E-SECTION",
                "Resources",
                "a template needs a Resources section",
            );
        }
        t.section_macros = self.section_macros;
        t.notes = self.notes;
        Ok(t)
    }

    /// Reads one top-level section into `t` (a note when it is malformed or
    /// unknown).
    fn section(&mut self, t: &mut Template, path: &str, v: Value) {
        match path {
            "AWSTemplateFormatVersion" => {
                if v.as_str() != Some("2010-09-09") {
                    self.note(
                        "E-SECTION",
                        path,
                        "the only template format version is \"2010-09-09\"",
                    );
                }
            }
            "Description" => match v {
                Value::String(s) => t.description = Some(s.into()),
                _ => self.note("E-SECTION", path, "Description must be a string"),
            },
            "Metadata" => t.metadata = Some(v),
            "Transform" => {}
            "Parameters" => {
                for (id, p) in self.entries(v, path) {
                    if let Some(p) = self.parameter(&p, &child(path, &id)) {
                        t.parameters.insert(id, p);
                    }
                }
            }
            "Mappings" | "Conditions" | "Rules" => {
                let items: BTreeMap<String, Value> = self.entries(v, path).into_iter().collect();
                match path {
                    "Mappings" => t.mappings = items,
                    "Conditions" => t.conditions = items,
                    _ => t.rules = items,
                }
            }
            "Resources" => {
                let mut read = Vec::new();
                for (id, r) in self.entries(v, path) {
                    if let Some(r) = self.resource(r, &child(path, &id)) {
                        read.push((id, r));
                    }
                }
                // Built in one go, the tree's nodes are full; inserted one
                // by one they stay about half empty (a full node splits in
                // two halves), and the template's largest structure took
                // twice the room. The section is read once (it is a key of
                // the root map), and its ids are unique (keys of its map).
                t.resources = read.into_iter().collect();
            }
            "Outputs" => {
                for (id, o) in self.entries(v, path) {
                    if let Some(o) = self.output(o, &child(path, &id)) {
                        t.outputs.insert(id, o);
                    }
                }
            }
            "Globals" | "Hooks" => self.transform_section(t, path, v),
            _ => self.note(
                "E-SECTION",
                path,
                format!("unknown template section; allowed: {}", SECTIONS.join(", ")),
            ),
        }
    }

    /// SAM's section of defaults (`Globals`) and the section of CodeDeploy
    /// blue/green hooks (`Hooks`): kept as written, each needing its
    /// transform.
    fn transform_section(&mut self, t: &mut Template, path: &str, v: Value) {
        let needs = if path == "Globals" {
            SERVERLESS
        } else {
            "AWS::CodeDeployBlueGreen"
        };
        if !self.transforms.iter().any(|t| t == needs) {
            self.note(
                "E-SECTION",
                path,
                format!("the {path} section needs `Transform: {needs}`"),
            );
        }
        t.sections.insert(path.to_owned(), v);
    }

    /// The entries of a section that must be a mapping (a note otherwise).
    /// An include macro (`Fn::Transform`) may supply
    /// the whole section or some of its entries: what it adds is only known
    /// once expanded, so the template is then read as one with a macro.
    fn entries(&mut self, v: Value, path: &str) -> Vec<(String, Value)> {
        match v {
            Value::Map(m) => {
                if m.contains_key("Fn::Transform") {
                    self.section_macros = true;
                }
                m.into_iter()
                    .filter(|(k, _)| k != "Fn::Transform")
                    .map(|(k, v)| (k.into(), v))
                    .collect()
            }
            Value::Fn(f) if f.long_name() == "Fn::Transform" => {
                self.section_macros = true;
                Vec::new()
            }
            _ => {
                self.note("E-SECTION", path, "expected a mapping");
                Vec::new()
            }
        }
    }

    fn opt_string(&mut self, m: &Map, key: &str, path: &str) -> Option<String> {
        match m.get(key)? {
            Value::String(s) => Some(s.as_str().into()),
            Value::Int(n) => Some(n.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => {
                self.note("E-TEMPLATE", &child(path, key), "expected a string");
                None
            }
        }
    }

    fn opt_int(&mut self, m: &Map, key: &str, path: &str) -> Option<i64> {
        let parsed = match m.get(key)? {
            Value::Int(n) => Some(*n),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.note("E-TEMPLATE", &child(path, key), "expected an integer");
        }
        parsed
    }

    fn mapping<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Map> {
        let m = v.as_map();
        if m.is_none() {
            self.note("E-TEMPLATE", path, "expected a mapping");
        }
        m
    }

    fn parameter(&mut self, v: &Value, path: &str) -> Option<Parameter> {
        let m = self.mapping(v, path)?;
        let kind = self.opt_string(m, "Type", path).unwrap_or_else(|| {
            self.note("E-TEMPLATE", path, "a parameter needs a Type");
            String::new()
        });
        Some(Parameter {
            kind,
            description: self.opt_string(m, "Description", path),
            default: m.get("Default").cloned(),
            allowed_pattern: self.opt_string(m, "AllowedPattern", path),
            allowed_values: m
                .get("AllowedValues")
                .and_then(Value::as_list)
                .map(<[Value]>::to_vec)
                .unwrap_or_default(),
            min_length: self.opt_int(m, "MinLength", path),
            max_length: self.opt_int(m, "MaxLength", path),
            constraint_description: self.opt_string(m, "ConstraintDescription", path),
        })
    }

    fn resource(&mut self, v: Value, path: &str) -> Option<Resource> {
        let Value::Map(mut m) = v else {
            self.note("E-TEMPLATE", path, "expected a mapping");
            return None;
        };
        let m = &mut m;
        let Some(kind) = self.opt_string(m, "Type", path) else {
            self.note("E-TEMPLATE", path, "a resource needs a Type");
            return None;
        };
        let depends_on = match m.get("DependsOn") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.to_string()],
            Some(Value::List(items)) if items.iter().all(|i| i.as_str().is_some()) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            Some(_) => {
                self.note(
                    "E-TEMPLATE",
                    &child(path, "DependsOn"),
                    "expected logical ids",
                );
                Vec::new()
            }
        };
        let properties = match m.get_mut("Properties").map(take) {
            None | Some(Value::Null) => Map::new(),
            Some(p) => self.properties(p, &child(path, "Properties")),
        };
        let mut r = Resource::new(kind, properties);
        r.condition = self.opt_string(m, "Condition", path);
        r.depends_on = depends_on;
        r.depends_on.sort();
        r.deletion_policy = self.policy(m, "DeletionPolicy", path);
        r.update_replace_policy = self.policy(m, "UpdateReplacePolicy", path);
        r.metadata = m.get_mut("Metadata").map(take);
        let custom =
            r.kind.starts_with("Custom::") || r.kind == "AWS::CloudFormation::CustomResource";
        for (key, v) in m.iter_mut() {
            match key.as_str() {
                "Type" | "Properties" | "Condition" | "DependsOn" | "DeletionPolicy"
                | "UpdateReplacePolicy" | "Metadata" => {}
                "CreationPolicy" | "UpdatePolicy" if r.kind.ends_with("::MODULE") || custom => {
                    let what = if custom { "a custom resource" } else { "a module" };
                    self.note(
                        "E-RESOURCE-KEY",
                        &child(path, key),
                        format!("{what} takes no {key}"),
                    )
                }
                // The custom resource specification version (legacy).
                "Version" if custom => {
                    r.attributes.insert(key.clone(), take(v));
                }
                "CreationPolicy" | "UpdatePolicy" => {
                    r.attributes.insert(key.clone(), take(v));
                }
                "IgnoreGlobals" | "Connectors" if r.kind.starts_with("AWS::Serverless::") => {
                    r.attributes.insert(key.clone(), take(v));
                }
                _ => self.note(
                    "E-RESOURCE-KEY",
                    &child(path, key),
                    format!(
                        "`{key}` is not a resource attribute; allowed: Type, Properties, Condition, DependsOn, DeletionPolicy, UpdateReplacePolicy, Metadata, CreationPolicy, UpdatePolicy{}",
                        if r.kind.starts_with("AWS::Serverless::") {
                            ", IgnoreGlobals, Connectors"
                        } else {
                            ""
                        }
                    ),
                ),
            }
        }
        Some(r)
    }

    /// A resource's properties: a mapping, or `Fn::If` choosing between
    /// mappings and `AWS::NoValue` (CloudFormation allows a whole block to be
    /// conditional). The model holds one mapping: the first branch that is
    /// one, so that its properties are still checked; no mapping at all
    /// (both branches `AWS::NoValue`) reads as no properties.
    fn properties(&mut self, v: Value, path: &str) -> Map {
        match v {
            Value::Map(m) => m,
            Value::Fn(f) => match *f {
                Intrinsic::If {
                    then, otherwise, ..
                } => {
                    let branches = [then, otherwise];
                    for b in &branches {
                        if !is_no_value(b) && !matches!(b, Value::Map(_) | Value::Fn(_)) {
                            self.note(
                                "E-TEMPLATE",
                                path,
                                "each Fn::If branch must be a mapping or AWS::NoValue",
                            );
                            return Map::new();
                        }
                    }
                    let pick = branches.into_iter().find(|b| !is_no_value(b));
                    pick.map(|b| self.properties(b, path)).unwrap_or_default()
                }
                // An include macro fills the block in: unknown until then.
                f if f.long_name() == "Fn::Transform" => {
                    let mut m = Map::new();
                    m.insert("Fn::Transform".into(), f.into_parts().1);
                    m
                }
                _ => {
                    self.note("E-TEMPLATE", path, "expected a mapping");
                    Map::new()
                }
            },
            _ => {
                self.note("E-TEMPLATE", path, "expected a mapping");
                Map::new()
            }
        }
    }

    /// `DeletionPolicy`/`UpdateReplacePolicy`: a string, or with
    /// `AWS::LanguageExtensions` a function resolved before deployment (kept
    /// as unknown here unless it is a `Ref` to a parameter with a default).
    fn policy(&mut self, m: &Map, key: &str, path: &str) -> Option<String> {
        // The options of the CloudFormation User Guide's DeletionPolicy and
        // UpdateReplacePolicy attribute pages.
        let allowed: &[&str] = if key == "DeletionPolicy" {
            &["Delete", "Retain", "RetainExceptOnCreate", "Snapshot"]
        } else {
            &["Delete", "Retain", "Snapshot"]
        };
        match m.get(key)? {
            Value::String(s) if allowed.contains(&s.as_str()) => Some(s.as_str().into()),
            Value::String(s) => {
                self.note(
                    "E-TEMPLATE",
                    &child(path, key),
                    format!("`{s}` is not a {key}; allowed: {}", allowed.join(", ")),
                );
                None
            }
            // The User Guide's page "Intrinsic function references in
            // DeletionPolicy and UpdateReplacePolicy attributes" now shows
            // functions there without a transform (earlier editions tied them
            // to AWS::LanguageExtensions), and cfn-lint accepts them: the value
            // is only known at deploy time.
            Value::Fn(_) => None,
            _ => {
                self.note("E-TEMPLATE", &child(path, key), "expected a string");
                None
            }
        }
    }

    fn output(&mut self, v: Value, path: &str) -> Option<Output> {
        let Value::Map(mut m) = v else {
            self.note("E-TEMPLATE", path, "expected a mapping");
            return None;
        };
        let m = &mut m;
        let value = m.get_mut("Value").map(take).unwrap_or_else(|| {
            self.note("E-TEMPLATE", path, "an output needs a Value");
            Value::Null
        });
        Some(Output {
            description: self.opt_string(m, "Description", path),
            value,
            export: m.get("Export").and_then(|e| e.get("Name")).cloned(),
            condition: self.opt_string(m, "Condition", path),
        })
    }
}

/// Moves a value out of a map being taken apart (its place keeps a null).
fn take(v: &mut Value) -> Value {
    std::mem::replace(v, Value::Null)
}

fn is_no_value(v: &Value) -> bool {
    matches!(v, Value::Fn(f) if matches!(f.as_ref(), Intrinsic::Ref(n) if n == "AWS::NoValue"))
}

fn shape(path: &str, message: impl Into<String>) -> ParseError {
    ParseError::Shape {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn other(name: &str, arg: Value) -> Value {
    Value::Fn(Box::new(Intrinsic::Other {
        name: name.to_owned(),
        arg,
    }))
}

/// A literal `Fn::Select` index must name an item: CloudFormation refuses a
/// negative one, and one past the end of a literal list.
fn select_index_in_range(index: &Value, list: &Value) -> Result<(), String> {
    let i = match index {
        Value::Int(i) => *i,
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(i) => i,
            Err(_) => return Err(format!("Fn::Select index `{s}` is not a number")),
        },
        _ => return Ok(()),
    };
    if i < 0 {
        return Err(format!(
            "Fn::Select index {i} is negative; indexes start at 0"
        ));
    }
    if let Value::List(items) = list
        && i >= items.len() as i64
    {
        return Err(format!(
            "Fn::Select index {i} is out of range for a list of {} items",
            items.len()
        ));
    }
    Ok(())
}

fn string_arg(name: &str, v: Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.into()),
        _ => Err(format!("{name} expects a string")),
    }
}

fn list_arg<const N: usize>(name: &str, v: Value) -> Result<[Value; N], String> {
    match v {
        Value::List(items) if items.len() == N => items
            .try_into()
            .map_err(|_| format!("{name} expects {N} arguments")),
        _ => Err(format!("{name} expects a list of {N} arguments")),
    }
}

/// What a function parser returns: the typed intrinsic, `Ok(None)` when the
/// model keeps the call untyped, or the reason the argument is malformed.
type Typed = Result<Option<Intrinsic>, String>;

/// The typed form of a standard function; `Ok(None)` for functions the model
/// keeps untyped (rule functions, language extensions, macros).
pub(crate) fn typed(name: &str, arg: Value, lang_ext: bool) -> Typed {
    // An include macro supplies the whole argument: unknown until expanded.
    if matches!(&arg, Value::Fn(f) if f.long_name() == "Fn::Transform") {
        return Ok(None);
    }
    match name {
        "Ref" => typed_ref(arg, lang_ext),
        "Condition" => Ok(Some(Intrinsic::Condition(string_arg(name, arg)?))),
        "Fn::GetAtt" => typed_get_att(arg, lang_ext),
        "Fn::Sub" => typed_sub(arg),
        "Fn::Join" | "Fn::Select" | "Fn::Split" => typed_list_fn(name, arg),
        "Fn::GetStackOutput" => check_get_stack_output(&arg).map(|()| None),
        "Fn::GetAZs" => Ok(Some(Intrinsic::GetAZs(arg))),
        "Fn::ImportValue" => Ok(Some(Intrinsic::ImportValue(arg))),
        "Fn::Base64" => Ok(Some(Intrinsic::Base64(arg))),
        "Fn::Cidr" => {
            let [block, count, bits] = list_arg::<3>(name, arg)?;
            Ok(Some(Intrinsic::Cidr { block, count, bits }))
        }
        "Fn::FindInMap" => typed_find_in_map(arg, lang_ext),
        "Fn::If" | "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => typed_condition_fn(name, arg),
        _ => Ok(None),
    }
}

fn typed_ref(arg: Value, lang_ext: bool) -> Typed {
    match arg {
        Value::String(s) => Ok(Some(Intrinsic::Ref(s.into()))),
        // With AWS::LanguageExtensions a `Ref` may name its target with
        // a function: `Fn::Sub` of loop identifiers only is a name once
        // the loop is expanded; anything else resolves at deploy time.
        Value::Fn(f) if lang_ext => match *f {
            Intrinsic::Sub {
                template,
                vars: None,
            } if crate::refs::sub_variables(&template).is_empty() => {
                Ok(Some(Intrinsic::Ref(template)))
            }
            _ => Ok(None),
        },
        _ => Err("Ref expects a string".to_owned()),
    }
}

fn typed_get_att(arg: Value, lang_ext: bool) -> Typed {
    let other = match arg {
        Value::String(s) => {
            let (resource, attribute) = s
                .split_once('.')
                .ok_or_else(|| "Fn::GetAtt expects 'Resource.Attribute'".to_owned())?;
            return Ok(Some(Intrinsic::GetAtt {
                resource: resource.to_owned(),
                attribute: attribute.to_owned(),
            }));
        }
        other => other,
    };
    let [r, a] = list_arg::<2>("Fn::GetAtt", other)?;
    let (r, a) = if lang_ext {
        (literal_sub(r), literal_sub(a))
    } else {
        (r, a)
    };
    match (r, a) {
        (Value::String(resource), Value::String(attribute)) => Ok(Some(Intrinsic::GetAtt {
            resource: resource.into(),
            attribute: attribute.into(),
        })),
        // `[Resource, !Ref AttributeName]`: valid, resolved at deploy time.
        (Value::String(_), Value::Fn(_)) => Ok(None),
        // A resource named by a function: only the language extensions
        // resolve one (before deployment).
        (Value::Fn(_), _) if lang_ext => Ok(None),
        _ => Err("Fn::GetAtt expects [resource, attribute]".into()),
    }
}

fn typed_sub(arg: Value) -> Typed {
    let other = match arg {
        Value::String(template) => {
            return Ok(Some(Intrinsic::Sub {
                template: template.into(),
                vars: None,
            }));
        }
        other => other,
    };
    let [t, vars] = list_arg::<2>("Fn::Sub", other)?;
    let Value::Map(vars) = vars else {
        return Err("Fn::Sub expects [template, {variables}]".into());
    };
    match t {
        Value::String(template) => Ok(Some(Intrinsic::Sub {
            template: template.into(),
            vars: Some(vars),
        })),
        // A template computed by another function: only known at deploy time.
        Value::Fn(_) => Ok(None),
        _ => Err("Fn::Sub expects a string template".into()),
    }
}

/// `Fn::Join`, `Fn::Select` and `Fn::Split`: two arguments each.
fn typed_list_fn(name: &str, arg: Value) -> Typed {
    let [first, second] = list_arg::<2>(name, arg)?;
    Ok(Some(match name {
        "Fn::Join" => Intrinsic::Join {
            separator: string_arg(name, first)?,
            items: second,
        },
        "Fn::Select" => {
            select_index_in_range(&first, &second)?;
            Intrinsic::Select {
                index: first,
                list: second,
            }
        }
        _ => Intrinsic::Split {
            separator: string_arg(name, first)?,
            source: second,
        },
    }))
}

/// `Fn::GetStackOutput` stays untyped; only its argument names are checked.
fn check_get_stack_output(arg: &Value) -> Result<(), String> {
    let Value::Map(m) = arg else {
        return Err("Fn::GetStackOutput expects {StackName, OutputName, Region?, RoleArn?}".into());
    };
    for required in ["StackName", "OutputName"] {
        if !m.contains_key(required) {
            return Err(format!("Fn::GetStackOutput needs {required}"));
        }
    }
    if let Some(k) = m.keys().find(|k| {
        !matches!(
            k.as_str(),
            "StackName" | "OutputName" | "Region" | "RoleArn"
        )
    }) {
        return Err(format!(
            "`{k}` is not an argument of Fn::GetStackOutput; allowed: StackName, OutputName, Region, RoleArn"
        ));
    }
    Ok(())
}

fn typed_find_in_map(arg: Value, lang_ext: bool) -> Typed {
    match arg {
        // The fourth argument, `{DefaultValue: x}`, comes with
        // AWS::LanguageExtensions; the expansion resolves it.
        Value::List(items) if items.len() == 4 && lang_ext => {
            let default_ok = items[3]
                .as_map()
                .is_some_and(|m| m.len() == 1 && m.contains_key("DefaultValue"));
            if default_ok {
                Ok(None)
            } else {
                Err("Fn::FindInMap's fourth argument must be {DefaultValue: value}".into())
            }
        }
        other => {
            let [map, top, second] = list_arg::<3>("Fn::FindInMap", other)?;
            Ok(Some(Intrinsic::FindInMap { map, top, second }))
        }
    }
}

/// The condition functions: `Fn::If`, `Fn::Equals`, `Fn::Not`, `Fn::And`,
/// `Fn::Or`.
fn typed_condition_fn(name: &str, arg: Value) -> Typed {
    Ok(Some(match name {
        "Fn::If" => {
            let [c, then, otherwise] = list_arg::<3>(name, arg)?;
            Intrinsic::If {
                condition: string_arg(name, c)?,
                then,
                otherwise,
            }
        }
        "Fn::Equals" => {
            let [a, b] = list_arg::<2>(name, arg)?;
            Intrinsic::Equals(a, b)
        }
        "Fn::Not" => {
            let [c] = list_arg::<1>(name, arg)?;
            Intrinsic::Not(c)
        }
        _ => match arg {
            Value::List(items) if (2..=10).contains(&items.len()) => {
                if name == "Fn::And" {
                    Intrinsic::And(items)
                } else {
                    Intrinsic::Or(items)
                }
            }
            _ => return Err(format!("{name} expects a list of 2 to 10 conditions")),
        },
    }))
}

/// `Fn::Sub` of a string without variables (what a loop identifier leaves
/// once replaced) is that string.
fn literal_sub(v: Value) -> Value {
    match v {
        Value::Fn(f) => match *f {
            Intrinsic::Sub {
                template,
                vars: None,
            } if crate::refs::sub_variables(&template).is_empty() => Value::String(template.into()),
            f => Value::Fn(Box::new(f)),
        },
        other => other,
    }
}

/// The top-level sections CloudFormation reads.
pub const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Transform",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Hooks",
    "Globals",
    "Resources",
    "Outputs",
];
