//! Checks across the templates of one set: an export name is declared once,
//! and (for an env) every import is exported by one of its stacks.

use std::collections::BTreeMap;

use apprun_template::{Template, Value};

use crate::finding::{Finding, Severity};
use crate::{Context, Input};

pub(crate) fn check(inputs: &[Input<'_>], ctx: &Context, out: &mut Vec<Finding>) {
    let mut exporters: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for input in inputs {
        for (name, output) in input.template.export_names() {
            if let Some((file, _)) = exporters.get(name) {
                if *file != input.file {
                    let mut f = Finding::error(
                        "E-EXPORT-DUPLICATE",
                        output,
                        format!("Outputs/{output}/Export/Name"),
                        format!(
                            "export `{name}` is also declared in {file}; export names are unique per account and region"
                        ),
                    );
                    f.file = input.file.as_str().into();
                    f.stack = input.stack.as_deref().map(Into::into);
                    out.push(f);
                }
            } else {
                exporters.insert(name, (input.file.as_str(), output));
            }
        }
    }
    for input in inputs {
        for name in input.template.import_names() {
            if exporters.contains_key(name.as_str()) {
                continue;
            }
            // In an env every import must come from one of its stacks; a
            // hand-written template may import from stacks deployed elsewhere.
            let severity = if ctx.closed_world {
                Severity::Error
            } else {
                Severity::Warning
            };
            let mut f = Finding::new(
                "E-IMPORT-UNRESOLVED",
                severity,
                "",
                "Resources",
                format!("imports `{name}`, which no checked template exports"),
            );
            f.file = input.file.as_str().into();
            f.stack = input.stack.as_deref().map(Into::into);
            out.push(f);
        }
    }
}

/// Where each export of a set of templates comes from: the index of the
/// template that declares it and the exported value, for following an
/// `ImportValue` across stacks. The first declaration wins (a second one is
/// `E-EXPORT-DUPLICATE`).
pub(crate) fn exported_values<'a>(
    templates: impl IntoIterator<Item = &'a Template>,
) -> BTreeMap<&'a str, (usize, &'a Value)> {
    let mut exports = BTreeMap::new();
    for (i, t) in templates.into_iter().enumerate() {
        for o in t.outputs.values() {
            if let Some(name) = o.export.as_ref().and_then(Value::as_str) {
                exports.entry(name).or_insert((i, &o.value));
            }
        }
    }
    exports
}
