//! The one verdict type, for `check`, `check --python` and `conformance`:
//! same as the snapshot, known deviation, differs, unclear, not supported
//! (with the maps-level verdict), skipped, or error — each with its reasons,
//! as one table cell and as lines.

use serde::Serialize;

/// The verdict on one case on one runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verdict {
    /// Agrees with the snapshot (at the level judged) and meets the case's
    /// expectations.
    Same,
    /// Differs as the case documents: `differences` are what differed;
    /// `same_stacks` the main process's stacks when they still equal the
    /// snapshot's.
    KnownDeviation {
        why: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        same_stacks: Option<String>,
        differences: Vec<String>,
    },
    /// Differs; one line per difference.
    Differs { differences: Vec<String> },
    /// The samples could not decide, run after run: the shares that sat
    /// between absent and present, or flipped.
    Unclear { claims: Vec<String> },
    /// The runtime cannot support the case's unwinding mode. When it still
    /// names its functions, `maps` judges the case at the maps level.
    NotSupported {
        why: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        maps: Option<Box<Verdict>>,
    },
    /// The case does not run here; why.
    Skipped { why: String },
    /// The run produced nothing to judge.
    Error { why: String },
}

impl Verdict {
    /// The table cell.
    pub fn cell(&self) -> String {
        match self {
            Verdict::Same => "same".into(),
            Verdict::KnownDeviation { .. } => "known deviation".into(),
            Verdict::Differs { .. } => "DIFFERS".into(),
            Verdict::Unclear { .. } => "UNCLEAR".into(),
            Verdict::NotSupported { maps: None, .. } => "not supported".into(),
            Verdict::NotSupported { maps: Some(m), .. } => {
                format!("not supported (maps: {})", m.cell())
            }
            Verdict::Skipped { .. } => "skipped".into(),
            Verdict::Error { .. } => "ERROR".into(),
        }
    }

    /// Whether this verdict fails a `check` or report run.
    pub fn is_failure(&self) -> bool {
        match self {
            Verdict::Differs { .. } | Verdict::Unclear { .. } | Verdict::Error { .. } => true,
            Verdict::NotSupported { maps: Some(m), .. } => m.is_failure(),
            _ => false,
        }
    }

    /// The reasons behind the cell, one line each.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Verdict::Same => Vec::new(),
            Verdict::KnownDeviation {
                why,
                same_stacks,
                differences,
            } => {
                let mut lines = vec![format!("known deviation: {why}")];
                if let Some(stacks) = same_stacks {
                    lines.push(format!("py:: stacks as in the snapshot: {stacks}"));
                }
                const SHOWN: usize = 3;
                lines.extend(
                    differences
                        .iter()
                        .take(SHOWN)
                        .map(|d| format!("differs: {d}")),
                );
                if differences.len() > SHOWN {
                    lines.push(format!(
                        "… {} more differences (--format json lists them)",
                        differences.len() - SHOWN
                    ));
                }
                lines
            }
            Verdict::Differs { differences } => differences.clone(),
            Verdict::Unclear { claims } => claims.iter().map(|c| format!("unclear: {c}")).collect(),
            Verdict::NotSupported { why, maps } => {
                let mut lines = vec![format!("not supported by this interpreter: {why}")];
                if let Some(maps) = maps {
                    let judged = maps.reasons();
                    if judged.is_empty() {
                        lines.push("maps level: same as the snapshot".into());
                    }
                    lines.extend(judged.into_iter().map(|r| format!("maps level: {r}")));
                }
                lines
            }
            Verdict::Skipped { why } => vec![format!("skipped: {why}")],
            Verdict::Error { why } => vec![format!("error: {why}")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_known_deviation_lists_why_and_what_differed() {
        let verdict = Verdict::KnownDeviation {
            why: "-X perf=0 turns perf on".into(),
            same_stacks: None,
            differences: lines(&["a", "b", "c", "d"]),
        };
        assert_eq!(
            verdict.reasons(),
            [
                "known deviation: -X perf=0 turns perf on",
                "differs: a",
                "differs: b",
                "differs: c",
                "… 1 more differences (--format json lists them)"
            ]
        );
        assert!(!verdict.is_failure());
        assert_eq!(verdict.cell(), "known deviation");
    }

    #[test]
    fn not_supported_carries_the_maps_level_verdict() {
        let ok = Verdict::NotSupported {
            why: "no frame pointers".into(),
            maps: Some(Box::new(Verdict::Same)),
        };
        assert_eq!(ok.cell(), "not supported (maps: same)");
        assert!(!ok.is_failure());
        assert_eq!(
            ok.reasons(),
            [
                "not supported by this interpreter: no frame pointers",
                "maps level: same as the snapshot"
            ]
        );
        let bad = Verdict::NotSupported {
            why: "no frame pointers".into(),
            maps: Some(Box::new(Verdict::Differs {
                differences: lines(&["exit: 1 instead of 0"]),
            })),
        };
        assert_eq!(bad.cell(), "not supported (maps: DIFFERS)");
        assert!(bad.is_failure());
        assert_eq!(bad.reasons()[1], "maps level: exit: 1 instead of 0");
        let nothing = Verdict::NotSupported {
            why: "no perf_jit".into(),
            maps: None,
        };
        assert_eq!(nothing.cell(), "not supported");
        assert!(!nothing.is_failure());
        assert!(!Verdict::Skipped { why: "x".into() }.is_failure());
        assert!(Verdict::Error { why: "x".into() }.is_failure());
        let unclear = Verdict::Unclear {
            claims: lines(&["x: 2%"]),
        };
        assert!(unclear.is_failure());
        assert_eq!(
            (unclear.cell().as_str(), unclear.reasons()),
            ("UNCLEAR", lines(&["unclear: x: 2%"]))
        );
    }

    #[test]
    fn verdicts_serialise_with_a_tag() {
        let json = serde_json::to_string(&Verdict::NotSupported {
            why: "w".into(),
            maps: Some(Box::new(Verdict::KnownDeviation {
                why: "d".into(),
                same_stacks: None,
                differences: vec!["x".into()],
            })),
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"outcome":"not_supported","why":"w","maps":{"outcome":"known_deviation","why":"d","differences":["x"]}}"#
        );
    }
}
