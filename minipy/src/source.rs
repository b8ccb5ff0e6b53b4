//! A script's bytes to source text, as CPython reads a file: UTF-8 with
//! an optional byte-order mark, universal newlines (`\r\n` and a lone `\r`
//! end a line, as `\n` does), and refusals in CPython's words for NUL
//! bytes and for bytes that are not UTF-8.

/// Decodes `bytes` read from `path`, or returns the report to print.
pub fn decode(bytes: &[u8], path: &str) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let bad_utf8 = std::str::from_utf8(bytes).err().map(|e| e.valid_up_to());
    let nul = bytes.iter().position(|&b| b == 0);
    match (nul, bad_utf8) {
        (Some(n), bad) if bad.is_none_or(|b| n < b) => {
            let line_start = bytes[..n]
                .iter()
                .rposition(|&b| b == b'\n' || b == b'\r')
                .map_or(0, |p| p + 1);
            let text = String::from_utf8_lossy(&bytes[line_start..n]);
            Err(format!(
                "  File \"{path}\", line {}\n    {}\nSyntaxError: source code cannot contain null bytes\n",
                line_number(&bytes[..n]),
                text.trim()
            ))
        }
        (_, Some(b)) => Err(format!(
            "SyntaxError: Non-UTF-8 code starting with '\\x{:02x}' in file {path} on line {}, but no encoding declared; see https://peps.python.org/pep-0263/ for details\n",
            bytes[b],
            line_number(&bytes[..b])
        )),
        _ => {
            let text = String::from_utf8_lossy(bytes);
            Ok(if text.contains('\r') {
                text.replace("\r\n", "\n").replace('\r', "\n")
            } else {
                text.into_owned()
            })
        }
    }
}

/// The 1-based line that starts after `before`, counting `\n`, `\r\n`
/// and a lone `\r` as line ends.
fn line_number(before: &[u8]) -> usize {
    let mut line = 1;
    let mut i = 0;
    while i < before.len() {
        match before[i] {
            b'\n' => line += 1,
            b'\r' => {
                line += 1;
                if before.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_are_universal() {
        assert_eq!(decode(b"a\rb\r\nc\n", "/p").unwrap(), "a\nb\nc\n");
        assert_eq!(decode(b"\xef\xbb\xbfx = 1\n", "/p").unwrap(), "x = 1\n");
    }

    #[test]
    fn null_bytes_and_bad_utf8_are_reported_on_their_line() {
        let e = decode(b"a\r\nb\rpri\0nt\n", "/p").unwrap_err();
        assert!(e.starts_with("  File \"/p\", line 3\n    pri\n"), "{e}");
        let e = decode(b"a\n\n\xe2\x82", "/p").unwrap_err();
        assert!(
            e.starts_with(
                "SyntaxError: Non-UTF-8 code starting with '\\xe2' in file /p on line 3,"
            ),
            "{e}"
        );
    }
}
