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

/// Where the scan of one line is, outside quoted scalars.
struct Cursor {
    /// At the start of a scalar: where a quote opens a quoted scalar and a
    /// bracket opens a flow collection (elsewhere they are plain text).
    at_start: bool,
    /// The last byte of plain text read since the last indicator.
    last_plain: Option<u8>,
    /// Block levels on this line: the indentation levels plus one per `- `.
    depth: usize,
}

impl Cursor {
    /// After an indicator (`,`, `:`, `- `, a bracket) a new scalar starts.
    fn scalar_starts(&mut self) {
        self.at_start = true;
        self.last_plain = None;
    }
}

/// What the scan does after one byte.
enum Step {
    /// Goes on at this index.
    Next(usize),
    /// The rest of the line is a comment or a block scalar's text.
    EndOfLine,
    /// Nesting goes deeper than allowed at this 1-based column.
    TooDeep(usize),
}

impl Scan {
    /// Scans one line; the column where the depth goes beyond `max`.
    fn line(&mut self, line: &str, max: usize) -> Option<usize> {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        if self.skips(bytes, indent) {
            return None;
        }
        if self.flow == 0 && self.quote.is_none() {
            self.track_indent(indent);
        }
        let depth = self.indents.len();
        if depth + self.flow > max {
            return Some(indent + 1);
        }
        self.scan_bytes(bytes, indent, depth, max)
    }

    /// Whether the line holds no structure: a blank line outside a quoted
    /// scalar, or a line of a block scalar's text (which it ends otherwise).
    fn skips(&mut self, bytes: &[u8], indent: usize) -> bool {
        let blank = bytes[indent..]
            .iter()
            .all(|&b| b == b' ' || b == b'\t' || b == b'\r');
        if let Some(parent) = self.block_scalar {
            if blank || indent > parent {
                return true;
            }
            self.block_scalar = None;
        }
        blank && self.quote.is_none()
    }

    /// Closes the block levels indented deeper than `indent` and opens one
    /// when `indent` is deeper than the innermost.
    fn track_indent(&mut self, indent: usize) {
        while self.indents.last().is_some_and(|&top| top > indent) {
            self.indents.pop();
        }
        if self.indents.last().is_none_or(|&top| indent > top) {
            self.indents.push(indent);
        }
    }

    /// Scans the bytes of a line after its indentation (from its start when
    /// a quoted scalar continues from the line above).
    fn scan_bytes(
        &mut self,
        bytes: &[u8],
        indent: usize,
        depth: usize,
        max: usize,
    ) -> Option<usize> {
        let mut cursor = Cursor {
            at_start: self.quote.is_none(),
            last_plain: None,
            depth,
        };
        let mut i = if self.quote.is_some() { 0 } else { indent };
        while i < bytes.len() {
            let step = match self.quote {
                Some(q) => Step::Next(self.quoted(q, bytes, i, &mut cursor)),
                None => self.token(bytes, i, indent, max, &mut cursor),
            };
            match step {
                Step::Next(next) => i = next,
                Step::EndOfLine => return None,
                Step::TooDeep(column) => return Some(column),
            }
        }
        None
    }

    /// One byte inside the quoted scalar opened by `q`; the index to go on
    /// at (escapes are skipped whole).
    fn quoted(&mut self, q: u8, bytes: &[u8], i: usize, cursor: &mut Cursor) -> usize {
        match (q, bytes[i]) {
            (b'"', b'\\') => i + 2,
            (b'\'', b'\'') if bytes.get(i + 1) == Some(&b'\'') => i + 2,
            (_, b) if b == q => {
                self.quote = None;
                cursor.at_start = false;
                i + 1
            }
            _ => i + 1,
        }
    }

    /// One byte outside quoted scalars: indicators open and close levels.
    fn token(
        &mut self,
        bytes: &[u8],
        i: usize,
        indent: usize,
        max: usize,
        cursor: &mut Cursor,
    ) -> Step {
        let b = bytes[i];
        let too_deep = |depth: usize, flow: usize| depth + flow > max;
        match b {
            b' ' | b'\t' => {}
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => return Step::EndOfLine,
            b'"' | b'\'' if cursor.at_start => self.quote = Some(b),
            b'[' | b'{' if cursor.at_start || self.flow > 0 && cursor.last_plain.is_none() => {
                self.flow += 1;
                cursor.scalar_starts();
                if too_deep(cursor.depth, self.flow) {
                    return Step::TooDeep(i + 1);
                }
            }
            b']' | b'}' if self.flow > 0 => {
                self.flow -= 1;
                cursor.at_start = false;
                cursor.last_plain = None;
            }
            b',' if self.flow > 0 => cursor.scalar_starts(),
            b'-' | b'?' | b':'
                if bytes.get(i + 1).is_none_or(|&n| n == b' ' || n == b'\t')
                    && (b == b':' || cursor.at_start) =>
            {
                if b == b'-' && self.flow == 0 {
                    // `- - - x`: each entry indicator is one more level.
                    cursor.depth += 1;
                    if too_deep(cursor.depth, self.flow) {
                        return Step::TooDeep(i + 1);
                    }
                }
                cursor.scalar_starts();
            }
            b':' if self.flow > 0 => cursor.scalar_starts(),
            b'|' | b'>' if cursor.at_start && self.flow == 0 => {
                // A block scalar: the lines below that are indented deeper
                // than this line are its text.
                self.block_scalar = Some(indent);
                return Step::EndOfLine;
            }
            b'!' | b'&' | b'*' if cursor.at_start => {
                // A tag or an anchor: the scalar starts after it.
                let rest = &bytes[i + 1..];
                let len = rest
                    .iter()
                    .take_while(|&&n| !matches!(n, b' ' | b'\t'))
                    .count();
                return Step::Next(i + 1 + len);
            }
            _ => {
                cursor.at_start = false;
                cursor.last_plain = Some(b);
            }
        }
        Step::Next(i + 1)
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

    #[test]
    fn escaped_quotes_do_not_end_a_quoted_scalar() {
        assert_eq!(yaml_too_deep("a: \"x\\\" [[[[[\"\n", 2), None);
        assert_eq!(yaml_too_deep("a: 'it''s [[[[['\n", 2), None);
        // A quoted scalar continues on the next line.
        assert_eq!(yaml_too_deep("a: \"x\n  [[[[[\"\n", 2), None);
    }

    #[test]
    fn a_tag_or_anchor_does_not_hide_the_flow_after_it() {
        assert_eq!(yaml_too_deep("k: !t [[[\n", 3), Some((1, 9)));
        assert_eq!(yaml_too_deep("k: &a [[[\n", 3), Some((1, 9)));
        assert_eq!(yaml_too_deep("k: !Sub '[[[['\n", 2), None);
    }
}
