//! Deployment order from imports and exports.

use std::collections::{BTreeMap, BTreeSet};

use crate::Stack;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GraphError {
    #[error("stack {stack} imports `{export}`, which no stack of this environment exports")]
    UnresolvedImport { stack: String, export: String },
    #[error("export `{export}` is declared by both {first} and {second}")]
    DuplicateExport {
        export: String,
        first: String,
        second: String,
    },
    #[error("stacks depend on each other in a circle: {}", stacks.join(", "))]
    Cycle { stacks: Vec<String> },
}

/// For each stack name, the names of the stacks it imports from (sorted).
pub(crate) fn dependencies(stacks: &[Stack]) -> BTreeMap<String, Vec<String>> {
    let exporters: BTreeMap<String, &str> = stacks
        .iter()
        .flat_map(|s| s.exports().into_iter().map(move |e| (e, s.name.as_str())))
        .collect();
    stacks
        .iter()
        .map(|s| {
            let deps: BTreeSet<String> = s
                .imports()
                .iter()
                .filter_map(|i| exporters.get(i))
                .filter(|d| **d != s.name)
                .map(|d| (*d).to_owned())
                .collect();
            (s.name.clone(), deps.into_iter().collect())
        })
        .collect()
}

/// Groups stacks into waves: each wave only imports from earlier waves.
/// Returns indices into `stacks`, each wave sorted by stack name.
pub fn waves(stacks: &[Stack]) -> Result<Vec<Vec<usize>>, GraphError> {
    let mut exporters: BTreeMap<String, usize> = BTreeMap::new();
    for (i, s) in stacks.iter().enumerate() {
        for e in s.exports() {
            if let Some(prev) = exporters.insert(e.clone(), i) {
                return Err(GraphError::DuplicateExport {
                    export: e,
                    first: stacks[prev].name.clone(),
                    second: s.name.clone(),
                });
            }
        }
    }
    let mut deps: Vec<BTreeSet<usize>> = Vec::with_capacity(stacks.len());
    for (i, s) in stacks.iter().enumerate() {
        let mut d = BTreeSet::new();
        for import in s.imports() {
            match exporters.get(&import) {
                Some(&j) if j != i => {
                    d.insert(j);
                }
                Some(_) => {}
                None => {
                    return Err(GraphError::UnresolvedImport {
                        stack: s.name.clone(),
                        export: import,
                    });
                }
            }
        }
        deps.push(d);
    }
    let mut done: BTreeSet<usize> = BTreeSet::new();
    let mut result = Vec::new();
    while done.len() < stacks.len() {
        let mut wave: Vec<usize> = (0..stacks.len())
            .filter(|i| !done.contains(i) && deps[*i].is_subset(&done))
            .collect();
        if wave.is_empty() {
            let mut stuck: Vec<String> = (0..stacks.len())
                .filter(|i| !done.contains(i))
                .map(|i| stacks[i].name.clone())
                .collect();
            stuck.sort();
            return Err(GraphError::Cycle { stacks: stuck });
        }
        wave.sort_by(|a, b| stacks[*a].name.cmp(&stacks[*b].name));
        done.extend(wave.iter().copied());
        result.push(wave);
    }
    Ok(result)
}
