//! Checks across the templates of one set: an export name is declared once,
//! and (for an env) every import is exported by one of its stacks.

use std::collections::BTreeMap;

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
                    f.file = input.file.clone();
                    f.stack = input.stack.clone();
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
                "Resources".into(),
                format!("imports `{name}`, which no checked template exports"),
            );
            f.file = input.file.clone();
            f.stack = input.stack.clone();
            out.push(f);
        }
    }
}
