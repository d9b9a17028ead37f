//! The sections of a template and their canonical order.

use std::collections::BTreeMap;

use crate::value::{CompactString, Map, Str, Value};

/// A CloudFormation template. Logical ids are kept sorted so that rendering
/// does not depend on the order in which a blueprint added them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    pub description: Option<String>,
    pub metadata: Option<Value>,
    pub parameters: BTreeMap<String, Parameter>,
    pub mappings: BTreeMap<String, Value>,
    pub conditions: BTreeMap<String, Value>,
    pub resources: BTreeMap<String, Resource>,
    pub outputs: BTreeMap<String, Output>,
    /// The `Transform` section: macro names in order (`AWS::Serverless-2016-10-31`,
    /// `AWS::LanguageExtensions`, ...).
    pub transforms: Vec<String>,
    /// The `Rules` section: rule name to `{RuleCondition, Assertions}`.
    pub rules: BTreeMap<String, Value>,
    /// Other sections kept as written: SAM's `Globals`, `Hooks`.
    pub sections: BTreeMap<String, Value>,
    /// What the reader could not take as written (always empty for a
    /// template built in code). The rest of the template was still read.
    /// At most [`MAX_NOTES`], the first made; the others are counted in
    /// `notes_overflow`.
    pub notes: Vec<Note>,
    pub notes_overflow: Overflow,
    /// An include macro (`Fn::Transform` at section level) supplies entries
    /// of a section: what they are is only known once expanded.
    pub section_macros: bool,
}

/// The most notes a template keeps. A template can make a note every few
/// bytes (an unknown tag on every item of a flow list): kept, they would
/// take many times the template's size, for a report read only as far as
/// its first screens. The notes past it are counted (see [`Overflow`]).
pub const MAX_NOTES: usize = 1000;

/// What was counted past a limit, not kept: the notes past [`MAX_NOTES`],
/// or the findings past `validate_limited`'s limit; by code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overflow {
    pub by_code: BTreeMap<&'static str, Counted>,
}

/// How many of one code were counted past a limit, and how many of those
/// are errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub found: usize,
    pub errors: usize,
}

impl Counted {
    pub fn add(&mut self, other: Counted) {
        self.found += other.found;
        self.errors += other.errors;
    }
}

impl Overflow {
    pub fn count(&mut self, code: &'static str, severity: crate::validate::Severity) {
        self.by_code.entry(code).or_default().add(Counted {
            found: 1,
            errors: usize::from(severity == crate::validate::Severity::Error),
        });
    }

    /// How many of them are errors.
    pub fn errors(&self) -> usize {
        self.by_code.values().map(|c| c.errors).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

/// Something the parser noted while reading a template: a construct it could
/// not read (an error) or one CloudFormation may not accept as is (a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub severity: crate::validate::Severity,
    /// Stable identifier, e.g. `E-FN` or `E-DUPLICATE-KEY`.
    pub code: &'static str,
    /// Path inside the template, e.g. `Resources/Vpc/Properties` (inline up
    /// to 24 bytes).
    pub path: crate::value::CompactString,
    /// 1-based line, when the reader knows it (JSON duplicate keys); four
    /// bytes, since a template may have a note on every resource.
    pub line: Option<u32>,
    /// Shared: a note made at many places (the same unknown attribute on
    /// every resource) holds its text once, and so do the findings made
    /// from it.
    pub message: std::sync::Arc<str>,
}

/// The logical ids whose resources generate others (SAM's serverless
/// resources, modules), from [`Template::generators`].
#[derive(Debug, Clone)]
pub struct Generators<'t> {
    sam: bool,
    prefixes: Vec<&'t str>,
}

impl Generators<'_> {
    /// Whether `name` may be one of the generated resources.
    pub fn may_generate(&self, name: &str) -> bool {
        (self.sam && name.starts_with("Serverless"))
            || self
                .prefixes
                .iter()
                .any(|id| name.len() > id.len() && name.starts_with(id))
    }
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub kind: String,
    pub description: Option<String>,
    pub default: Option<Value>,
    pub allowed_pattern: Option<String>,
    pub allowed_values: Vec<Value>,
    pub min_length: Option<i64>,
    pub max_length: Option<i64>,
    pub constraint_description: Option<String>,
}

impl Parameter {
    /// A `String` parameter.
    pub fn string(description: impl Into<String>) -> Self {
        Parameter {
            kind: "String".into(),
            description: Some(description.into()),
            default: None,
            allowed_pattern: None,
            allowed_values: Vec::new(),
            min_length: None,
            max_length: None,
            constraint_description: None,
        }
    }
}

/// A resource: its type, its properties and its other attributes.
///
/// Kept small, since a template may have tens of thousands: the type is
/// held inline (up to 24 bytes, every AWS type name but the longest), and
/// the attributes most resources leave unset (`Condition`, `DependsOn`,
/// the policies, `Metadata`, ...) are held apart, boxed, only when one is
/// set. Read them with the accessors ([`Resource::condition`], ...), set
/// them with [`Resource::attributes_mut`].
#[derive(Debug, Clone)]
pub struct Resource {
    pub kind: CompactString,
    pub properties: Map,
    /// None when every attribute is unset.
    more: Option<Box<Attributes>>,
}

/// The attributes of a resource besides `Type` and `Properties`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attributes {
    pub condition: Option<String>,
    /// Sorted, without repeats (see [`Resource::depends_on`]).
    pub depends_on: Vec<Str>,
    pub deletion_policy: Option<String>,
    pub update_replace_policy: Option<String>,
    pub metadata: Option<Value>,
    /// The other resource attributes, as written: `CreationPolicy`,
    /// `UpdatePolicy`, SAM's `IgnoreGlobals` and `Connectors`, a custom
    /// resource's `Version`.
    pub other: Map,
}

impl Attributes {
    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.condition.is_none()
            && self.depends_on.is_empty()
            && self.deletion_policy.is_none()
            && self.update_replace_policy.is_none()
            && self.metadata.is_none()
            && self.other.is_empty()
    }
}

/// Equal when the type, properties and attributes are: attributes boxed
/// but all unset equal none boxed.
impl PartialEq for Resource {
    fn eq(&self, other: &Self) -> bool {
        let same_attributes = match (self.attributes(), other.attributes()) {
            (Some(a), Some(b)) => a == b,
            (Some(a), None) | (None, Some(a)) => a.is_empty(),
            (None, None) => true,
        };
        self.kind == other.kind && self.properties == other.properties && same_attributes
    }
}

impl Resource {
    pub fn new(kind: impl Into<CompactString>, properties: Map) -> Self {
        Resource {
            kind: kind.into(),
            properties,
            more: None,
        }
    }

    /// The attributes besides `Type` and `Properties`; None when none is set.
    pub fn attributes(&self) -> Option<&Attributes> {
        self.more.as_deref()
    }

    /// The attributes, to set them (boxed on first use).
    pub fn attributes_mut(&mut self) -> &mut Attributes {
        self.more.get_or_insert_with(Box::default)
    }

    /// Replaces the attributes (nothing is boxed when none is set).
    pub fn set_attributes(&mut self, attributes: Attributes) {
        self.more = (!attributes.is_empty()).then(|| Box::new(attributes));
    }

    pub fn condition(&self) -> Option<&str> {
        self.attributes()?.condition.as_deref()
    }

    /// The `DependsOn` logical ids, sorted.
    pub fn dependencies(&self) -> &[Str] {
        self.attributes().map_or(&[], |a| a.depends_on.as_slice())
    }

    pub fn deletion_policy(&self) -> Option<&str> {
        self.attributes()?.deletion_policy.as_deref()
    }

    pub fn update_replace_policy(&self) -> Option<&str> {
        self.attributes()?.update_replace_policy.as_deref()
    }

    pub fn metadata(&self) -> Option<&Value> {
        self.attributes()?.metadata.as_ref()
    }

    /// One of the other attributes (`CreationPolicy`, `UpdatePolicy`, ...).
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        self.attributes()?.other.get(name)
    }

    /// Adds a `DependsOn` entry, kept sorted and unique.
    pub fn depends_on(mut self, logical_id: impl Into<Str>) -> Self {
        let id = logical_id.into();
        let ids = &mut self.attributes_mut().depends_on;
        if let Err(pos) = ids.binary_search(&id) {
            ids.insert(pos, id);
        }
        self
    }

    /// Sets both DeletionPolicy and UpdateReplacePolicy to `Retain`.
    pub fn retained(mut self) -> Self {
        let a = self.attributes_mut();
        a.deletion_policy = Some("Retain".into());
        a.update_replace_policy = Some("Retain".into());
        self
    }
}

/// A template output, optionally exported.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub description: Option<String>,
    pub value: Value,
    pub export: Option<Value>,
    pub condition: Option<String>,
}

impl Output {
    pub fn new(description: impl Into<String>, value: Value) -> Self {
        Output {
            description: Some(description.into()),
            value,
            export: None,
            condition: None,
        }
    }

    /// Exports the output under a literal name.
    pub fn exported_as(mut self, name: impl Into<crate::value::Str>) -> Self {
        self.export = Some(Value::String(name.into()));
        self
    }
}

fn put(map: &mut Map, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.into(), v);
    }
}

fn section<T>(items: &BTreeMap<String, T>, f: impl Fn(&T) -> Value) -> Option<Value> {
    (!items.is_empty()).then(|| Value::Map(items.iter().map(|(k, v)| (k.clone(), f(v))).collect()))
}

impl Template {
    /// The template as a generic value, sections in canonical order.
    pub fn to_value(&self) -> Value {
        let mut root = Map::new();
        root.insert(
            "AWSTemplateFormatVersion".into(),
            Value::String("2010-09-09".into()),
        );
        put(
            &mut root,
            "Description",
            self.description.clone().map(Value::from),
        );
        put(&mut root, "Metadata", self.metadata.clone());
        match self.transforms.as_slice() {
            [] => {}
            [one] => {
                root.insert("Transform".into(), Value::String(one.as_str().into()));
            }
            many => {
                root.insert("Transform".into(), many.to_vec().into());
            }
        }
        put(
            &mut root,
            "Parameters",
            section(&self.parameters, Parameter::to_value),
        );
        put(&mut root, "Rules", section(&self.rules, Clone::clone));
        put(&mut root, "Mappings", section(&self.mappings, Clone::clone));
        put(
            &mut root,
            "Conditions",
            section(&self.conditions, Clone::clone),
        );
        for (name, v) in &self.sections {
            root.insert(name.as_str().into(), v.clone());
        }
        root.insert(
            "Resources".into(),
            section(&self.resources, Resource::to_value).unwrap_or(Value::Map(Map::new())),
        );
        put(
            &mut root,
            "Outputs",
            section(&self.outputs, Output::to_value),
        );
        Value::Map(root)
    }

    /// Whether a macro other than the two CloudFormation applies itself
    /// (`AWS::LanguageExtensions`, SAM's) transforms this template, or an
    /// include supplies a section's entries: what it becomes is only known
    /// once expanded.
    pub fn has_macros(&self) -> bool {
        self.section_macros
            || self
                .transforms
                .iter()
                .any(|t| t != crate::LANGUAGE_EXTENSIONS && t != crate::SERVERLESS)
    }

    /// Whether `name` may be a resource generated from this template's own:
    /// by SAM from its serverless resources (`<Function>Role`,
    /// `ServerlessRestApi`, ...), or by a module (`Org::X::Y::MODULE`), whose
    /// resources are named `<module logical id><resource in the module>`.
    /// For many names, ask [`Template::generators`] once instead.
    pub fn generated(&self, name: &str) -> bool {
        self.generators().may_generate(name)
    }

    /// The resources of this template that generate others (see
    /// [`Template::generated`]), gathered once.
    pub fn generators(&self) -> Generators<'_> {
        let sam = self.transforms.iter().any(|t| t == crate::SERVERLESS);
        Generators {
            sam,
            prefixes: self
                .resources
                .iter()
                .filter(|(_, r)| {
                    r.kind.ends_with("::MODULE") || (sam && r.kind.starts_with("AWS::Serverless::"))
                })
                .map(|(id, _)| id.as_str())
                .collect(),
        }
    }

    /// Every export name that is a literal string, with the output's logical id.
    pub fn export_names(&self) -> Vec<(&str, &str)> {
        self.outputs
            .iter()
            .filter_map(|(id, o)| {
                o.export
                    .as_ref()
                    .and_then(Value::as_str)
                    .map(|n| (n, id.as_str()))
            })
            .collect()
    }

    /// Every literal export name that this template imports.
    pub fn import_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut visit = |v: &Value| {
            if let Value::Fn(f) = v
                && let crate::Intrinsic::ImportValue(Value::String(name)) = f.as_ref()
            {
                names.push(name.to_string());
            }
        };
        for r in self.resources.values() {
            r.properties.values().for_each(|v| v.walk(&mut visit));
        }
        for o in self.outputs.values() {
            o.value.walk(&mut visit);
        }
        names.sort();
        names.dedup();
        names
    }
}

impl Parameter {
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("Type".into(), Value::String(self.kind.as_str().into()));
        put(
            &mut m,
            "Description",
            self.description.clone().map(Value::from),
        );
        put(&mut m, "Default", self.default.clone());
        put(
            &mut m,
            "AllowedPattern",
            self.allowed_pattern.clone().map(Value::from),
        );
        if !self.allowed_values.is_empty() {
            m.insert(
                "AllowedValues".into(),
                Value::list(self.allowed_values.clone()),
            );
        }
        put(&mut m, "MinLength", self.min_length.map(Value::Int));
        put(&mut m, "MaxLength", self.max_length.map(Value::Int));
        put(
            &mut m,
            "ConstraintDescription",
            self.constraint_description.clone().map(Value::from),
        );
        Value::Map(m)
    }
}

impl Resource {
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("Type".into(), Value::String(self.kind.as_str().into()));
        if let Some(a) = self.attributes() {
            a.put_into(&mut m);
        }
        if !self.properties.is_empty() {
            m.insert("Properties".into(), Value::Map(self.properties.clone()));
        }
        Value::Map(m)
    }
}

impl Attributes {
    /// Adds the attributes that are set to a resource's map, in canonical
    /// order.
    fn put_into(&self, m: &mut Map) {
        put(m, "Condition", self.condition.clone().map(Value::from));
        match self.depends_on.as_slice() {
            [] => {}
            [one] => {
                m.insert("DependsOn".into(), Value::String(one.clone()));
            }
            many => {
                m.insert(
                    "DependsOn".into(),
                    Value::List(many.iter().cloned().map(Value::String).collect()),
                );
            }
        }
        put(
            m,
            "DeletionPolicy",
            self.deletion_policy.clone().map(Value::from),
        );
        put(
            m,
            "UpdateReplacePolicy",
            self.update_replace_policy.clone().map(Value::from),
        );
        put(m, "Metadata", self.metadata.clone());
        for (k, v) in &self.other {
            m.insert(k.clone(), v.clone());
        }
    }
}

impl Output {
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        put(
            &mut m,
            "Description",
            self.description.clone().map(Value::from),
        );
        put(&mut m, "Condition", self.condition.clone().map(Value::from));
        m.insert("Value".into(), self.value.clone());
        if let Some(name) = &self.export {
            let mut e = Map::new();
            e.insert("Name".into(), name.clone());
            m.insert("Export".into(), Value::Map(e));
        }
        Value::Map(m)
    }
}
