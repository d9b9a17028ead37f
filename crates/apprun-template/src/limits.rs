//! Bounds checked before a YAML library sees the text.
//!
//! The YAML reader builds the whole tree before apprun can count levels, and
//! it slows down more than linearly with nesting (100 KB of `[` took 20 s).
//! So one linear pass over the bytes estimates the nesting first — flow
//! brackets, block indentation and `- ` entries — and a text nested deeper
//! than [`crate::MAX_DEPTH`] is refused before the library reads it. The
//! estimate never undercounts real nesting and overcounts only little (a
//! sequence entry holding a mapping counts twice), far below the limit for
//! any real template.

/// Where nesting first goes deeper than `max`: 1-based line and column.
pub(crate) fn yaml_too_deep(text: &str, max: usize) -> Option<(usize, usize)> {
    let mut scan = Scan::default();
    for (i, raw_line) in text.split('\n').enumerate() {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        if let Some(column) = scan.line(line, max) {
            return Some((i + 1, column));
        }
    }
    None
}

#[derive(Default)]
struct Scan {
    /// Indentation of each open block level.
    indents: Vec<usize>,
    /// Open `[` and `{` (flow collections may span lines).
    flow: usize,
    /// Inside a quoted scalar that continues on the next line.
    quote: Option<u8>,
    /// Lines indented deeper than this belong to a block scalar (`|`, `>`).
    block_scalar: Option<usize>,
}

impl Scan {
    /// Scans one line; the column where the depth goes beyond `max`.
    fn line(&mut self, line: &str, max: usize) -> Option<usize> {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let blank = bytes[indent..]
            .iter()
            .all(|&b| b == b' ' || b == b'\t' || b == b'\r');
        if let Some(parent) = self.block_scalar {
            if blank || indent > parent {
                return None;
            }
            self.block_scalar = None;
        }
        if blank && self.quote.is_none() {
            return None;
        }
        if self.flow == 0 && self.quote.is_none() {
            while self.indents.last().is_some_and(|&top| top > indent) {
                self.indents.pop();
            }
            if self.indents.last().is_none_or(|&top| indent > top) {
                self.indents.push(indent);
            }
        }
        let mut depth_here = self.indents.len();
        if depth_here + self.flow > max {
            return Some(indent + 1);
        }
        // At the start of a scalar: where a quote opens a quoted scalar and a
        // bracket opens a flow collection (elsewhere they are plain text).
        let mut at_start = self.quote.is_none();
        let mut i = if self.quote.is_some() { 0 } else { indent };
        let mut last_plain: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(q) = self.quote {
                match (q, b) {
                    (b'"', b'\\') => i += 1,
                    (b'\'', b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 1,
                    _ if b == q => {
                        self.quote = None;
                        at_start = false;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            match b {
                b' ' | b'\t' => {}
                b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => break,
                b'"' | b'\'' if at_start => self.quote = Some(b),
                b'[' | b'{' if at_start || self.flow > 0 && last_plain.is_none() => {
                    self.flow += 1;
                    at_start = true;
                    last_plain = None;
                    if depth_here + self.flow > max {
                        return Some(i + 1);
                    }
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    at_start = false;
                    last_plain = None;
                }
                b',' if self.flow > 0 => {
                    at_start = true;
                    last_plain = None;
                }
                b'-' | b'?' | b':'
                    if bytes.get(i + 1).is_none_or(|&n| n == b' ' || n == b'\t')
                        && (b == b':' || at_start) =>
                {
                    if b == b'-' && self.flow == 0 {
                        // `- - - x`: each entry indicator is one more level.
                        depth_here += 1;
                        if depth_here + self.flow > max {
                            return Some(i + 1);
                        }
                    }
                    at_start = true;
                    last_plain = None;
                }
                b':' if self.flow > 0 => {
                    at_start = true;
                    last_plain = None;
                }
                b'|' | b'>' if at_start && self.flow == 0 => {
                    // A block scalar: the lines below that are indented
                    // deeper than this line are its text.
                    self.block_scalar = Some(indent);
                    break;
                }
                b'!' | b'&' | b'*' if at_start => {
                    // A tag or an anchor: the scalar starts after it.
                    while i + 1 < bytes.len() && !matches!(bytes[i + 1], b' ' | b'\t') {
                        i += 1;
                    }
                }
                _ => {
                    at_start = false;
                    last_plain = Some(b);
                }
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::yaml_too_deep;

    #[test]
    fn real_templates_are_far_from_the_limit() {
        let text = "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      Tags:\n        - Key: a\n          Value: !Sub '[${AWS::StackName}'\n      Code: |\n        [[[[[[\n";
        assert_eq!(yaml_too_deep(text, 6), None);
        assert_eq!(yaml_too_deep("a: x[[[[[[[[[[\nb: it's [[[[[[[\n", 2), None);
    }

    #[test]
    fn flow_block_and_entry_nesting_are_counted() {
        assert_eq!(yaml_too_deep(&"[".repeat(10), 5), Some((1, 5)));
        assert_eq!(yaml_too_deep(&"{a: ".repeat(10), 5), Some((1, 17)));
        assert_eq!(yaml_too_deep(&"- ".repeat(10), 5), Some((1, 9)));
        let block: String = (0..10).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert_eq!(yaml_too_deep(&block, 5), Some((6, 6)));
        assert_eq!(yaml_too_deep("a: '[[[[[[[[['\nb: \"[[[[[[[\"\n", 3), None);
    }
}
