//! Reading input files within bounds, and keeping user values short in
//! messages. Shared by the config loader and `apprun check --template`.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// The largest config file read (1 MiB): a real apprun.toml is a few KB.
pub const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

/// How many characters of a user value a message shows.
pub const SHOWN_CHARS: usize = 60;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A FIFO, a device, a folder: reading it could block or never end.
    #[error("not a regular file ({kind}); give a file")]
    NotRegular { kind: &'static str },
    #[error("{size} bytes is larger than the limit of {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The bytes of the regular file at `path`, refused without reading when it
/// is not a regular file or is larger than `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    // Follows symlinks: a link to a file is a file.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            kind: file_kind(&meta),
        });
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            max,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The file may grow between the two calls: never read past the limit.
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            max,
        });
    }
    Ok(bytes)
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// Where the first byte that is not UTF-8 is: 1-based line and column
/// (the column counts bytes), with the byte itself.
pub fn utf8_error_at(bytes: &[u8], e: &std::str::Utf8Error) -> (usize, usize, u8) {
    let valid = &bytes[..e.valid_up_to()];
    let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let byte = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
    (line, e.valid_up_to() - line_start + 1, byte)
}

/// A user value as a message shows it: the first [`SHOWN_CHARS`] characters
/// and the full length when it is longer.
pub fn shorten(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(SHOWN_CHARS) {
        None => Cow::Borrowed(value),
        Some((cut, _)) => Cow::Owned(format!(
            "{}… ({} characters)",
            &value[..cut],
            value.chars().count()
        )),
    }
}

/// A message with every quoted value (between backticks or double quotes)
/// longer than [`SHOWN_CHARS`] shortened by [`shorten`]; the rest as is.
pub fn shorten_values(message: &str) -> Cow<'_, str> {
    if message.len() <= SHOWN_CHARS {
        return Cow::Borrowed(message);
    }
    let mut out = String::with_capacity(message.len().min(4 * SHOWN_CHARS));
    let mut rest = message;
    let mut changed = false;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = rest.as_bytes()[open] as char;
        let Some(len) = rest[open + 1..].find(quote) else {
            break;
        };
        let inner = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..=open]);
        let short = shorten(inner);
        changed |= matches!(short, Cow::Owned(_));
        out.push_str(&short);
        out.push(quote);
        rest = &rest[open + len + 2..];
    }
    if !changed {
        return Cow::Borrowed(message);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_with_their_length() {
        let long = "x".repeat(1_048_576);
        let msg = format!("`{long}` is not a valid system id; use \"a\"");
        let short = shorten_values(&msg);
        assert_eq!(
            short,
            format!(
                "`{}… (1048576 characters)` is not a valid system id; use \"a\"",
                "x".repeat(60)
            )
        );
        assert!(matches!(shorten_values("`short` value"), Cow::Borrowed(_)));
        assert_eq!(shorten("é".repeat(61).as_str()).chars().count(), 60 + 17);
    }

    #[test]
    fn utf8_errors_are_located() {
        let mut bytes = b"a = 1\nbb = \"x\"\n".to_vec();
        bytes[12] = 0xff;
        let e = std::str::from_utf8(&bytes).unwrap_err();
        assert_eq!(utf8_error_at(&bytes, &e), (2, 7, 0xff));
    }

    #[test]
    fn non_regular_files_are_refused_unread() {
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 10),
            Err(ReadError::NotRegular { kind: "a device" })
        ));
        assert!(matches!(
            read_bounded(Path::new("/"), 10),
            Err(ReadError::NotRegular { kind: "a folder" })
        ));
    }
}
