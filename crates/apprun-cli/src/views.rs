//! The one JSON view of a blueprint's stacks, shared by `plan --output json`
//! and the manifest `synth` writes.

use apprun_blueprint::{EnvBlueprint, Stack};
use serde_json::{Map, Value, json};

/// The stacks in deploy order, each with its wave (from 1).
pub fn in_order(bp: &EnvBlueprint) -> Vec<(usize, &Stack)> {
    bp.waves
        .iter()
        .enumerate()
        .flat_map(|(w, wave)| wave.iter().map(move |&i| (w + 1, &bp.stacks[i])))
        .collect()
}

/// One stack: name, file, wave, whether the account shares it, and the
/// stacks it imports from.
pub fn stack_json(bp: &EnvBlueprint, wave: usize, s: &Stack, file: String) -> Map<String, Value> {
    let mut view = Map::new();
    view.insert("name".into(), json!(s.name));
    view.insert("file".into(), json!(file));
    view.insert("wave".into(), json!(wave));
    view.insert("per_account".into(), json!(s.kind.per_account()));
    view.insert(
        "depends_on".into(),
        json!(bp.dependencies.get(&s.name).cloned().unwrap_or_default()),
    );
    view
}
