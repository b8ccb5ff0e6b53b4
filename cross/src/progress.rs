//! Progress of long steps on stderr: a spinner with the elapsed time when
//! stderr is a terminal, one line at the start and one at the end of each
//! step otherwise (CI logs).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Runs `work` as a named step and reports how long it took; the error of
/// a failed step is returned unchanged.
pub fn step<T, E>(label: &str, work: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let start = Instant::now();
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} cross: {msg} ({elapsed})")
                .expect("a valid template"),
        );
        bar.set_message(label.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    if spinner.is_none() {
        eprintln!("cross: {label} ...");
    }
    let result = work();
    let took = seconds(start.elapsed());
    let outcome = if result.is_ok() { "done" } else { "failed" };
    match spinner {
        Some(bar) => bar.finish_with_message(format!("{label}: {outcome} in {took}")),
        None => eprintln!("cross: {label}: {outcome} in {took}"),
    }
    result
}

/// A short line of progress that is not a timed step.
pub fn note(message: &str) {
    eprintln!("cross: {message}");
}

/// `1.2 s`, or `2 min 05 s` for long steps.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{} min {:02} s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(Duration::from_millis(1234)), "1.2 s");
        assert_eq!(seconds(Duration::from_secs(125)), "2 min 05 s");
    }

    #[test]
    fn a_failed_step_keeps_its_error() {
        let r: Result<(), String> = step("testing", || Err("broken".to_string()));
        assert_eq!(r, Err("broken".to_string()));
    }
}
