//! The guest's serial console, read on a thread of its own: every line goes
//! to the console log, and the lines that matter become [`Event`]s — the
//! guest's replies (marked with this boot's nonce), a kernel panic, or the
//! end of the machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc::Sender;

/// What the console told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `/init` is ready for runs.
    Ready,
    /// Run `n` finished; `outcome` is `ok` or why its results are missing.
    Done { n: u32, outcome: String },
    /// `/init` gave up (a module or disk missing).
    Failed(String),
    /// The kernel panicked (the line that says why).
    Panic(String),
    /// The console closed: qemu exited.
    Closed,
}

/// Reads `console` until it closes, logging every line to `log` and
/// sending the events to `events`.
pub fn watch(console: impl Read, log: &Path, nonce: &str, events: Sender<Event>) {
    let mut log = std::fs::File::create(log).ok();
    let mut reader = BufReader::new(console);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match reader.read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\r', '\n']);
        if let Some(log) = log.as_mut() {
            let _ = writeln!(log, "{line}");
        }
        if let Some(event) = parse(line, nonce) {
            if events.send(event).is_err() {
                break;
            }
        }
    }
    let _ = events.send(Event::Closed);
}

/// The event a console line stands for, if any.
pub fn parse(line: &str, nonce: &str) -> Option<Event> {
    if line.contains("Kernel panic - not syncing") {
        let at = line.find("Kernel panic").unwrap_or(0);
        return Some(Event::Panic(line[at..].trim().to_owned()));
    }
    let marker = format!("@@cross:{nonce}:");
    let reply = &line[line.find(&marker)? + marker.len()..];
    let (word, rest) = reply.split_once(' ').unwrap_or((reply, ""));
    match word {
        "ready" => Some(Event::Ready),
        "fail" => Some(Event::Failed(rest.to_owned())),
        "done" => {
            let (n, outcome) = rest.split_once(' ')?;
            Some(Event::Done {
                n: n.parse().ok()?,
                outcome: outcome.trim().to_owned(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_boots_replies_and_panics_are_events() {
        assert_eq!(parse("@@cross:abc:ready", "abc"), Some(Event::Ready));
        assert_eq!(parse("@@cross:old:ready", "abc"), None);
        assert_eq!(
            parse("[  1.0] noise @@cross:abc:done 3 ok\r", "abc"),
            Some(Event::Done {
                n: 3,
                outcome: "ok\r".trim().to_owned()
            })
        );
        assert_eq!(
            parse(
                "@@cross:abc:fail cannot load kernel module virtio_blk",
                "abc"
            ),
            Some(Event::Failed("cannot load kernel module virtio_blk".into()))
        );
        assert_eq!(
            parse(
                "[    2.1] Kernel panic - not syncing: No working init found.",
                "abc"
            ),
            Some(Event::Panic(
                "Kernel panic - not syncing: No working init found.".into()
            ))
        );
        assert_eq!(parse("run 3", "abc"), None);
    }

    #[test]
    fn the_watcher_logs_every_line_and_ends_with_closed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("console.log");
        let (tx, rx) = std::sync::mpsc::channel();
        let text: &[u8] = b"Booting Linux\r\n@@cross:n1:ready\r\nrun 1\r\n@@cross:n1:done 1 ok\r\n";
        watch(text, &log, "n1", tx);
        let events: Vec<Event> = rx.iter().collect();
        assert_eq!(
            events,
            [
                Event::Ready,
                Event::Done {
                    n: 1,
                    outcome: "ok".into()
                },
                Event::Closed
            ]
        );
        let logged = std::fs::read_to_string(log).unwrap();
        assert_eq!(logged.lines().count(), 4, "{logged}");
    }
}
