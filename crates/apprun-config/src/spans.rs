//! Where each key of a TOML document is, so that errors found after
//! deserialization can still point at a line.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::model::KeyLocation;

pub(crate) struct SpanIndex {
    /// (dotted key path, span of the key, span of the value)
    entries: Vec<(String, Range<usize>, Range<usize>)>,
    line_starts: Vec<usize>,
}

impl SpanIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut entries = Vec::new();
        if let Ok(root) = DeTable::parse(text) {
            collect_table(root.get_ref(), "", &mut entries);
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SpanIndex {
            entries,
            line_starts,
        }
    }

    /// Span of the value at `path`, or of the closest existing parent key.
    pub(crate) fn value_span(&self, path: &str) -> Range<usize> {
        self.find(path, |(_, _, v)| v.clone())
    }

    /// Span of the key at `path`, or of the closest existing parent key.
    pub(crate) fn key_span(&self, path: &str) -> Range<usize> {
        self.find(path, |(_, k, _)| k.clone())
    }

    fn find(
        &self,
        path: &str,
        pick: impl Fn(&(String, Range<usize>, Range<usize>)) -> Range<usize>,
    ) -> Range<usize> {
        let mut p = path;
        loop {
            if let Some(e) = self.entries.iter().find(|(k, _, _)| k == p) {
                return pick(e);
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return 0..0,
            }
        }
    }

    /// The deepest key whose value contains `span`: where a serde error is.
    pub(crate) fn path_at(&self, span: &Range<usize>) -> Option<&str> {
        self.entries
            .iter()
            .filter(|(_, k, v)| {
                (v.start <= span.start && span.end <= v.end)
                    || (k.start <= span.start && span.end <= k.end)
            })
            .min_by_key(|(_, _, v)| v.end - v.start)
            .map(|(k, _, _)| k.as_str())
    }

    /// The first key named `name` (the last segment of its path) written
    /// inside `within`: its path and span.
    pub(crate) fn key_within(
        &self,
        name: &str,
        within: &Range<usize>,
    ) -> Option<(String, Range<usize>)> {
        self.entries
            .iter()
            .filter(|(p, k, _)| {
                within.start <= k.start
                    && k.end <= within.end
                    && (p == name || p.ends_with(&format!(".{name}")))
            })
            .min_by_key(|(_, k, _)| k.start)
            .map(|(p, k, _)| (p.clone(), k.clone()))
    }

    /// Where each key is written (its first occurrence), by dotted path.
    pub(crate) fn key_locations(&self) -> BTreeMap<String, KeyLocation> {
        let mut out = BTreeMap::new();
        for (path, key, _) in &self.entries {
            let (line, column) = self.line_col(key.start);
            out.entry(path.clone())
                .or_insert(KeyLocation { line, column });
        }
        out
    }

    /// 1-based line and column of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        (line, offset - self.line_starts[line - 1] + 1)
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn collect_table(
    table: &DeTable<'_>,
    prefix: &str,
    out: &mut Vec<(String, Range<usize>, Range<usize>)>,
) {
    for (key, value) in table {
        let path = join(prefix, key.get_ref());
        out.push((path.clone(), key.span(), value.span()));
        collect_value(value.get_ref(), &path, out);
    }
}

fn collect_value(
    value: &DeValue<'_>,
    path: &str,
    out: &mut Vec<(String, Range<usize>, Range<usize>)>,
) {
    match value {
        DeValue::Table(t) => collect_table(t, path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.push((p.clone(), item.span(), item.span()));
                collect_value(item.get_ref(), &p, out);
            }
        }
        _ => {}
    }
}
