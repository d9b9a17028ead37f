//! Parsing templates back from YAML (short or long form) and JSON.
//!
//! Reading is tolerant: only text that is not YAML or JSON at all (or whose
//! root is not a mapping) is an error. Anything else a reader can get past —
//! a function call of the wrong shape, an unknown section, a resource
//! without a `Type` — becomes a [`Note`] on the template, and the rest of
//! the file is still read, so one construct never hides every other finding.

use std::collections::BTreeMap;

use crate::lang;
use crate::template::{
    Attributes, MAX_NOTES, Note, Output, Overflow, Parameter, Resource, Template,
};
use crate::validate::Severity;
use crate::value::{CidrArgs, FindInMapArgs, IfArgs, Intrinsic, Map, SelectArgs, Str, Value};

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
            path: n.path.into(),
            message: n.message.to_string(),
        }),
        // Errors past the note limit are counted, not kept.
        None if reader.omitted.errors() > 0 => Err(ParseError::Shape {
            path: String::new(),
            message: format!(
                "{} errors past the first {MAX_NOTES}",
                reader.omitted.errors()
            ),
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
    /// At most [`MAX_NOTES`]; the others are counted in `omitted`.
    notes: Vec<Note>,
    omitted: Overflow,
    /// The text of every note made so far, each held once however many
    /// places it is made at.
    messages: std::collections::HashSet<std::sync::Arc<str>>,
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
            omitted: Overflow::default(),
            messages: std::collections::HashSet::new(),
            language_extensions: transforms.iter().any(|t| t == LANGUAGE_EXTENSIONS),
            transforms,
            section_macros: false,
        }
    }

    fn note(&mut self, code: &'static str, path: &str, message: impl Into<String>) {
        self.push_note(Severity::Error, code, path, message.into());
    }

    fn warn(&mut self, code: &'static str, path: &str, message: impl Into<String>) {
        self.push_note(Severity::Warning, code, path, message.into());
    }

    fn push_note(&mut self, severity: Severity, code: &'static str, path: &str, message: String) {
        if self.notes.len() >= MAX_NOTES {
            self.omitted.count(code, severity);
            return;
        }
        let message = match self.messages.get(message.as_str()) {
            Some(shared) => std::sync::Arc::clone(shared),
            None => {
                let shared: std::sync::Arc<str> = message.into();
                self.messages.insert(std::sync::Arc::clone(&shared));
                shared
            }
        };
        self.notes.push(Note {
            severity,
            code,
            path: path.into(),
            line: None,
            message,
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
        match typed(name, arg, self.language_extensions) {
            Ok(f) => Value::Fn(Box::new(f)),
            Err(Untyped::Kept(arg)) => other(name, arg),
            Err(Untyped::Bad(message, arg)) => {
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
        // The language extensions' expansion adds its notes directly.
        for extra in self.notes.drain(MAX_NOTES.min(self.notes.len())..) {
            self.omitted.count(extra.code, extra.severity);
        }
        t.notes = self.notes;
        t.notes_overflow = self.omitted;
        // The notes grew by doubling: the room they did not fill is given
        // back (a template may have a note on every resource).
        t.notes.shrink_to_fit();
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
            // Each section is read once (it is a key of the root map), and
            // its ids are unique (keys of its map): see unique_sorted_map.
            "Parameters" => {
                t.parameters = self.read_entries(v, path, |r, p, at| r.parameter(&p, at));
            }
            "Mappings" | "Conditions" | "Rules" => {
                let items = unique_sorted_map(self.entries(v, path));
                match path {
                    "Mappings" => t.mappings = items,
                    "Conditions" => t.conditions = items,
                    _ => t.rules = items,
                }
            }
            "Resources" => t.resources = self.read_entries(v, path, Self::resource),
            "Outputs" => t.outputs = self.read_entries(v, path, Self::output),
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
    /// A section's entries, each read with `read` (at its path); the ones
    /// it could not read are left out (with its note).
    fn read_entries<T>(
        &mut self,
        v: Value,
        path: &str,
        mut read: impl FnMut(&mut Self, Value, &str) -> Option<T>,
    ) -> BTreeMap<String, T> {
        let entries = self.entries(v, path);
        let mut items = Vec::with_capacity(entries.len());
        for (id, v) in entries {
            if let Some(item) = read(self, v, &child(path, &id)) {
                items.push((id, item));
            }
        }
        unique_sorted_map(items)
    }

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
        let depends_on = self.depends_on(m, path);
        let properties = match m.get_mut("Properties").map(take) {
            None | Some(Value::Null) => Map::new(),
            Some(p) => self.properties(p, &child(path, "Properties")),
        };
        let mut r = Resource::new(kind, properties);
        let mut a = Attributes {
            condition: self.opt_string(m, "Condition", path),
            depends_on,
            deletion_policy: self.policy(m, "DeletionPolicy", path),
            update_replace_policy: self.policy(m, "UpdateReplacePolicy", path),
            metadata: m.get_mut("Metadata").map(take),
            other: Map::new(),
        };
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
                    a.other.insert(key.clone(), take(v));
                }
                "CreationPolicy" | "UpdatePolicy" => {
                    a.other.insert(key.clone(), take(v));
                }
                "IgnoreGlobals" | "Connectors" if r.kind.starts_with("AWS::Serverless::") => {
                    a.other.insert(key.clone(), take(v));
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
        r.set_attributes(a);
        Some(r)
    }

    /// A resource's `DependsOn`: a logical id or a list of them (the ids
    /// moved out of the map, not copied), sorted, each once: a repeat adds
    /// nothing, and a list naming one id half a million times is one
    /// dependency, not a 20 MB list.
    fn depends_on(&mut self, m: &mut Map, path: &str) -> Vec<Str> {
        match m.get_mut("DependsOn") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![std::mem::take(s)],
            Some(Value::List(items)) if items.iter().all(|i| i.as_str().is_some()) => {
                // Repeats go before the ids are moved into their own list,
                // so that both lists are never whole at once.
                let mut ids = std::mem::take(items).into_vec();
                ids.sort_unstable_by(|a, b| a.as_str().cmp(&b.as_str()));
                ids.dedup_by(|a, b| a.as_str() == b.as_str());
                let mut ids: Vec<Str> = ids
                    .into_iter()
                    .filter_map(|i| match i {
                        Value::String(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                crate::map::fit(&mut ids);
                ids
            }
            Some(_) => {
                self.note(
                    "E-TEMPLATE",
                    &child(path, "DependsOn"),
                    "expected logical ids",
                );
                Vec::new()
            }
        }
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
                Intrinsic::If(a) => {
                    let IfArgs {
                        then, otherwise, ..
                    } = *a;
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

/// The map of `entries` (unique keys), built with full nodes and without
/// holding the entries twice. Built in one go (`collect`), a B-tree's nodes
/// are full; inserted one by one they stay about half empty (a full node
/// splits in two halves), and the template's largest structure took twice
/// the room. But `collect` sorts with scratch room for as many entries
/// again, and holds the list of entries while the tree is built: twice the
/// section at once. So the entries are sorted in place, and the tree is
/// built from the end of the list an eighth at a time, each part merged in
/// front of the tree built so far (`append` merges in one pass, freeing the
/// old nodes as it goes) while the list gives back the room of what it
/// handed over.
fn unique_sorted_map<V>(mut entries: Vec<(String, V)>) -> BTreeMap<String, V> {
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let part = (entries.len() / 8).max(64);
    let mut map = BTreeMap::new();
    while !entries.is_empty() {
        let tail = entries.split_off(entries.len().saturating_sub(part));
        entries.shrink_to_fit();
        let mut front: BTreeMap<String, V> = tail.into_iter().collect();
        // Every key of `front` sorts before every key of `map`.
        front.append(&mut map);
        map = front;
    }
    map
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
        name: name.into(),
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

/// Why a call stays untyped, with its argument handed back unchanged (the
/// argument is moved into the typed function, never copied first).
pub(crate) enum Untyped {
    /// A shape the model keeps untyped (rule functions, language
    /// extensions, macros, values only known at deploy time).
    Kept(Value),
    /// A malformed argument, with the reason.
    Bad(String, Value),
}

/// What a function parser returns: the typed intrinsic, or the argument
/// back with why it stays untyped.
type Typed = Result<Intrinsic, Untyped>;

fn bad(message: impl Into<String>, arg: Value) -> Untyped {
    Untyped::Bad(message.into(), arg)
}

/// The items of a list of exactly `N`, or the value back.
fn list_of<const N: usize>(v: Value) -> Result<[Value; N], Value> {
    match v {
        Value::List(items) if items.len() == N => match <[Value; N]>::try_from(items.into_vec()) {
            Ok(array) => Ok(array),
            Err(items) => Err(Value::list(items)),
        },
        other => Err(other),
    }
}

/// The typed form of a standard function, or the argument back when the
/// model keeps the call untyped (rule functions, language extensions,
/// macros) or the argument is malformed.
pub(crate) fn typed(name: &str, arg: Value, lang_ext: bool) -> Typed {
    // An include macro supplies the whole argument: unknown until expanded.
    if matches!(&arg, Value::Fn(f) if f.long_name() == "Fn::Transform") {
        return Err(Untyped::Kept(arg));
    }
    match name {
        "Ref" => typed_ref(arg, lang_ext),
        "Condition" => match arg {
            Value::String(s) => Ok(Intrinsic::Condition(s)),
            other => Err(bad("Condition expects a string", other)),
        },
        "Fn::GetAtt" => typed_get_att(arg, lang_ext),
        "Fn::Sub" => typed_sub(arg),
        "Fn::Join" | "Fn::Select" | "Fn::Split" => typed_list_fn(name, arg),
        "Fn::GetStackOutput" => match check_get_stack_output(&arg) {
            Ok(()) => Err(Untyped::Kept(arg)),
            Err(message) => Err(bad(message, arg)),
        },
        "Fn::GetAZs" => Ok(Intrinsic::GetAZs(arg)),
        "Fn::ImportValue" => Ok(Intrinsic::ImportValue(arg)),
        "Fn::Base64" => Ok(Intrinsic::Base64(arg)),
        "Fn::Cidr" => match list_of::<3>(arg) {
            Ok([block, count, bits]) => {
                Ok(Intrinsic::Cidr(Box::new(CidrArgs { block, count, bits })))
            }
            Err(arg) => Err(bad("Fn::Cidr expects a list of 3 arguments", arg)),
        },
        "Fn::FindInMap" => typed_find_in_map(arg, lang_ext),
        "Fn::If" | "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => typed_condition_fn(name, arg),
        _ => Err(Untyped::Kept(arg)),
    }
}

fn typed_ref(arg: Value, lang_ext: bool) -> Typed {
    match arg {
        Value::String(s) => Ok(Intrinsic::Ref(s)),
        // With AWS::LanguageExtensions a `Ref` may name its target with
        // a function: `Fn::Sub` of loop identifiers only is a name once
        // the loop is expanded; anything else resolves at deploy time.
        Value::Fn(f) if lang_ext => match *f {
            Intrinsic::Sub {
                template,
                vars: None,
            } if crate::refs::sub_variables(&template).next().is_none() => {
                Ok(Intrinsic::Ref(template))
            }
            f => Err(Untyped::Kept(Value::Fn(Box::new(f)))),
        },
        other => Err(bad("Ref expects a string", other)),
    }
}

fn typed_get_att(arg: Value, lang_ext: bool) -> Typed {
    if let Value::String(s) = &arg {
        return match s.split_once('.') {
            Some((resource, attribute)) => Ok(Intrinsic::GetAtt {
                resource: resource.into(),
                attribute: attribute.into(),
            }),
            None => Err(bad("Fn::GetAtt expects 'Resource.Attribute'", arg)),
        };
    }
    let (r, a) = match &arg {
        Value::List(items) if items.len() == 2 => (&items[0], &items[1]),
        _ => return Err(bad("Fn::GetAtt expects a list of 2 arguments", arg)),
    };
    // Read by reference: the two names are short, and the argument stays
    // whole for the untyped outcomes.
    let (r, a) = if lang_ext {
        (literal_sub_str(r), literal_sub_str(a))
    } else {
        (r.as_str(), a.as_str())
    };
    match (r, a) {
        (Some(resource), Some(attribute)) => Ok(Intrinsic::GetAtt {
            resource: resource.into(),
            attribute: attribute.into(),
        }),
        _ => {
            let (r, a) = match &arg {
                Value::List(items) => (&items[0], &items[1]),
                _ => return Err(Untyped::Kept(arg)),
            };
            let r_literal = lang_ext && literal_sub_str(r).is_some() || r.as_str().is_some();
            match (r, a) {
                // `[Resource, !Ref AttributeName]`: valid, resolved at deploy time.
                (_, Value::Fn(_)) if r_literal => Err(Untyped::Kept(arg)),
                // A resource named by a function: only the language extensions
                // resolve one (before deployment).
                (Value::Fn(_), _) if lang_ext && !r_literal => Err(Untyped::Kept(arg)),
                _ => Err(bad("Fn::GetAtt expects [resource, attribute]", arg)),
            }
        }
    }
}

fn typed_sub(arg: Value) -> Typed {
    let arg = match arg {
        Value::String(template) => {
            return Ok(Intrinsic::Sub {
                template,
                vars: None,
            });
        }
        other => other,
    };
    match list_of::<2>(arg) {
        Ok([Value::String(template), Value::Map(vars)]) => Ok(Intrinsic::Sub {
            template,
            vars: Some(vars),
        }),
        // A template computed by another function: only known at deploy time.
        Ok([t @ Value::Fn(_), vars @ Value::Map(_)]) => {
            Err(Untyped::Kept(Value::list(vec![t, vars])))
        }
        Ok([t, vars @ Value::Map(_)]) => Err(bad(
            "Fn::Sub expects a string template",
            Value::list(vec![t, vars]),
        )),
        Ok([t, vars]) => Err(bad(
            "Fn::Sub expects [template, {variables}]",
            Value::list(vec![t, vars]),
        )),
        Err(arg) => Err(bad("Fn::Sub expects a list of 2 arguments", arg)),
    }
}

/// `Fn::Join`, `Fn::Select` and `Fn::Split`: two arguments each.
fn typed_list_fn(name: &str, arg: Value) -> Typed {
    let [first, second] = match list_of::<2>(arg) {
        Ok(items) => items,
        Err(arg) => return Err(bad(format!("{name} expects a list of 2 arguments"), arg)),
    };
    if name == "Fn::Select" {
        return match select_index_in_range(&first, &second) {
            Ok(()) => Ok(Intrinsic::Select(Box::new(SelectArgs {
                index: first,
                list: second,
            }))),
            Err(message) => Err(bad(message, Value::list(vec![first, second]))),
        };
    }
    let Value::String(separator) = first else {
        return Err(bad(
            format!("{name} expects a string"),
            Value::list(vec![first, second]),
        ));
    };
    let separator = separator;
    Ok(if name == "Fn::Join" {
        Intrinsic::Join {
            separator,
            items: second,
        }
    } else {
        Intrinsic::Split {
            separator,
            source: second,
        }
    })
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
                Err(Untyped::Kept(Value::List(items)))
            } else {
                Err(bad(
                    "Fn::FindInMap's fourth argument must be {DefaultValue: value}",
                    Value::List(items),
                ))
            }
        }
        other => match list_of::<3>(other) {
            Ok([map, top, second]) => Ok(Intrinsic::FindInMap(Box::new(FindInMapArgs {
                map,
                top,
                second,
            }))),
            Err(arg) => Err(bad("Fn::FindInMap expects a list of 3 arguments", arg)),
        },
    }
}

/// The condition functions: `Fn::If`, `Fn::Equals`, `Fn::Not`, `Fn::And`,
/// `Fn::Or`.
fn typed_condition_fn(name: &str, arg: Value) -> Typed {
    match name {
        "Fn::If" => match list_of::<3>(arg) {
            Ok([Value::String(c), then, otherwise]) => Ok(Intrinsic::If(Box::new(IfArgs {
                condition: c,
                then,
                otherwise,
            }))),
            Ok([c, then, otherwise]) => Err(bad(
                "Fn::If expects a string",
                Value::list(vec![c, then, otherwise]),
            )),
            Err(arg) => Err(bad("Fn::If expects a list of 3 arguments", arg)),
        },
        "Fn::Equals" => match list_of::<2>(arg) {
            Ok(pair) => Ok(Intrinsic::Equals(Box::new(pair))),
            Err(arg) => Err(bad("Fn::Equals expects a list of 2 arguments", arg)),
        },
        "Fn::Not" => match list_of::<1>(arg) {
            Ok([c]) => Ok(Intrinsic::Not(c)),
            Err(arg) => Err(bad("Fn::Not expects a list of 1 arguments", arg)),
        },
        _ => match arg {
            Value::List(items) if (2..=10).contains(&items.len()) => Ok(if name == "Fn::And" {
                Intrinsic::And(items.into_vec())
            } else {
                Intrinsic::Or(items.into_vec())
            }),
            other => Err(bad(
                format!("{name} expects a list of 2 to 10 conditions"),
                other,
            )),
        },
    }
}

/// The name a `Fn::GetAtt` part gives once a loop identifier is replaced:
/// a string, or `Fn::Sub` of a string without variables.
fn literal_sub_str(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Sub {
                template,
                vars: None,
            } if crate::refs::sub_variables(template).next().is_none() => Some(template),
            _ => None,
        },
        _ => None,
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
