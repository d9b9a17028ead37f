//! Line numbers of template paths in block-style YAML, found by indentation.
//!
//! The parser keeps no positions, so the text is walked once: each mapping
//! key and list item gets the path of its parents. This covers block style
//! (what apprun writes and what people write); a path inside flow style
//! (`[a, b]`, `{k: v}`) resolves to the line of the nearest block key above.

/// The lines of one template's keys, indexed once and asked per finding.
/// Only the paths findings ask for are kept (and, for a path the text does
/// not have, its ancestors, where it resolves), in one sorted list of
/// borrowed paths beside their lines: a template of many keys with few
/// findings is not indexed key by key (that index took more memory than
/// the template), and one with a finding on every key holds 12 bytes per
/// path asked, not a copy.
pub(crate) struct LineIndex<'p> {
    /// Sorted, without repeats.
    paths: Vec<&'p str>,
    /// The 1-based line of `paths[i]`; 0 while not found.
    lines: Vec<u32>,
}

/// `paths` sorted, once each.
fn sorted(mut paths: Vec<&str>) -> Vec<&str> {
    paths.sort_unstable();
    paths.dedup();
    paths.shrink_to_fit();
    paths
}

impl<'p> LineIndex<'p> {
    pub(crate) fn new(text: &str, wanted: impl IntoIterator<Item = &'p str>) -> Self {
        let paths = sorted(wanted.into_iter().map(|p| p.trim_matches('/')).collect());
        let mut index = LineIndex::of(text, paths);
        // A path the text does not have (a required key that is missing, a
        // place inside flow style) resolves to its nearest ancestor's line:
        // only then are ancestors indexed, in a second walk.
        if index.lines.contains(&0) {
            let mut paths = index.paths;
            let missing: Vec<&'p str> = paths
                .iter()
                .zip(&index.lines)
                .filter(|(_, line)| **line == 0)
                .map(|(p, _)| *p)
                .collect();
            for mut p in missing {
                while let Some(i) = p.rfind('/') {
                    p = &p[..i];
                    paths.push(p);
                }
            }
            index = LineIndex::of(text, sorted(paths));
        }
        index
    }

    /// The lines of `paths` (sorted, unique) in `text`.
    fn of(text: &str, paths: Vec<&'p str>) -> Self {
        let mut lines = vec![0u32; paths.len()];
        let mut record = |path: &str, line: usize| {
            if let Ok(i) = paths.binary_search(&path)
                && lines[i] == 0
            {
                lines[i] = u32::try_from(line).unwrap_or(u32::MAX);
            }
        };
        // CloudFormation reads a leading byte order mark as nothing; so do we,
        // or the first key would carry it and hide every line below.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // JSON is flow style through and through: the indentation walk would
        // find nothing, so its keys come from the JSON scanner instead.
        if text.trim_start().starts_with('{') {
            apprun_template::json_key_lines(text, &mut record);
        } else {
            index(text, &mut record);
        }
        LineIndex { paths, lines }
    }

    /// The 1-based line of `path` (e.g. `Resources/Vpc/Properties/CidrBlock`),
    /// or of its nearest ancestor that has one.
    pub(crate) fn line_of(&self, path: &str) -> Option<u32> {
        let mut p = path.trim_matches('/');
        loop {
            if let Ok(i) = self.paths.binary_search(&p)
                && self.lines[i] > 0
            {
                return Some(self.lines[i]);
            }
            p = &p[..p.rfind('/')?];
        }
    }
}

/// One open node while walking the text.
struct Open {
    indent: usize,
    path: String,
    next_item: usize,
    is_item: bool,
}

/// Calls `record(path, line)` for every block-style key and list item.
fn index(text: &str, record: &mut dyn FnMut(&str, usize)) {
    let mut stack: Vec<Open> = Vec::new();
    let mut block_scalar: Option<usize> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let content = raw.trim_start();
        let mut indent = raw.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if let Some(min) = block_scalar {
            if indent > min {
                continue;
            }
            block_scalar = None;
        }
        let mut rest = content;
        // "- " opens a list item; a mapping may continue after the dash.
        while let Some(after) = rest
            .strip_prefix("- ")
            .or_else(|| (rest == "-").then_some(""))
        {
            // Items at the same indent are siblings, not parents.
            while stack
                .last()
                .is_some_and(|o| o.indent > indent || (o.indent == indent && o.is_item))
            {
                stack.pop();
            }
            let Some(parent) = stack.last_mut() else {
                break;
            };
            let path = format!("{}/{}", parent.path, parent.next_item);
            parent.next_item += 1;
            record(&path, line);
            stack.push(Open {
                indent,
                path,
                next_item: 0,
                is_item: true,
            });
            indent += 2;
            rest = after.trim_start();
        }
        let Some(key) = key_of(rest) else { continue };
        while stack.last().is_some_and(|o| o.indent >= indent) {
            stack.pop();
        }
        let path = match stack.last() {
            Some(parent) => format!("{}/{key}", parent.path),
            None => key.clone(),
        };
        record(&path, line);
        stack.push(Open {
            indent,
            path,
            next_item: 0,
            is_item: false,
        });
        let value = rest[rest.find(':').map_or(rest.len(), |i| i + 1)..].trim();
        if value.starts_with('|') || value.starts_with('>') {
            block_scalar = Some(indent);
        }
    }
}

/// The key of a `key: value` line (quotes removed), if it is one.
fn key_of(s: &str) -> Option<String> {
    if s.starts_with(['[', '{', '!', '|', '>']) {
        return None;
    }
    let (key, _) = if let Some(q) = s.strip_prefix('\'') {
        let end = q.find('\'')?;
        (&q[..end], &q[end + 1..])
    } else if let Some(q) = s.strip_prefix('"') {
        let end = q.find('"')?;
        (&q[..end], &q[end + 1..])
    } else {
        let i = s
            .find(": ")
            .or_else(|| s.strip_suffix(':').map(|k| k.len()))?;
        (&s[..i], &s[i..])
    };
    Some(key.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(text: &str, path: &str) -> Option<u32> {
        LineIndex::new(text, [path]).line_of(path)
    }

    #[test]
    fn only_the_asked_paths_are_kept_and_ancestors_of_missing_ones() {
        let text = "Resources:\n  A:\n    Type: x\n  B:\n    Type: y\n";
        let index = LineIndex::new(text, ["Resources/B/Type"]);
        assert_eq!(index.paths, ["Resources/B/Type"]);
        assert_eq!(index.line_of("Resources/B/Type"), Some(5));
        let index = LineIndex::new(text, ["Resources/B/Type", "Resources/A/Properties/X"]);
        assert_eq!(
            index.paths,
            [
                "Resources",
                "Resources/A",
                "Resources/A/Properties",
                "Resources/A/Properties/X",
                "Resources/B/Type"
            ]
        );
        assert_eq!(index.line_of("Resources/A/Properties/X"), Some(2));
        assert_eq!(index.line_of("Resources/B/Type"), Some(5));
    }

    #[test]
    fn finds_keys_and_list_items() {
        let text = "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/16\n      Tags:\n        - Key: a\n          Value: b\n        - Key: c\n  Sg:\n    Properties:\n      Script: |\n        Tags:\n          - x\n      Other: 1\n";
        assert_eq!(line_of(text, "Resources/Vpc/Properties/CidrBlock"), Some(5));
        assert_eq!(
            line_of(text, "Resources/Vpc/Properties/Tags/1/Key"),
            Some(9)
        );
        assert_eq!(
            line_of(text, "Resources/Vpc/Properties/Tags/0/Value"),
            Some(8)
        );
        assert_eq!(
            line_of(text, "Resources/Sg/Properties/Other"),
            Some(15),
            "block scalars are skipped"
        );
        assert_eq!(
            line_of(text, "Resources/Vpc/Properties/Missing"),
            Some(4),
            "nearest ancestor"
        );
        assert_eq!(line_of(text, "Nowhere"), None);
    }

    #[test]
    fn a_byte_order_mark_hides_no_line() {
        let text = "\u{feff}Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n";
        assert_eq!(line_of(text, "Resources/Vpc/Type"), Some(3));
    }

    #[test]
    fn json_keys_have_their_lines() {
        let text = "{\n  \"Resources\": {\n    \"Vpc\": {\n      \"Type\": \"AWS::EC2::VPC\",\n      \"Properties\": {\"CidrBlock\": \"10.0.0.0/16\"}\n    }\n  }\n}\n";
        assert_eq!(line_of(text, "Resources/Vpc/Type"), Some(4));
        assert_eq!(line_of(text, "Resources/Vpc/Properties/CidrBlock"), Some(5));
        assert_eq!(line_of(text, "Resources/Vpc/Missing"), Some(3));
    }
}
