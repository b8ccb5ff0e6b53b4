//! Stack patterns: how a case names a chain of script frames, and the one
//! way a stack is written (`<module> > rec*3 > foo`).

use std::fmt;

/// Most nested frames a pattern may stand for: far beyond any stack perf
/// records (`kernel.perf_event_max_stack` tops out at tens of thousands of
/// native frames), small enough that a typo cannot exhaust memory.
pub const MAX_REPEAT: usize = 10_000;

/// A chain of script frames, outermost first, by qualname. Written
/// `<module> > baz > bar > foo`; `name*N` stands for `N` nested frames of
/// `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackPattern(pub Vec<String>);

impl StackPattern {
    pub fn parse(text: &str) -> Result<StackPattern, String> {
        let mut frames = Vec::new();
        for part in text.split(" > ") {
            let part = part.trim();
            let (name, count) = match part.rsplit_once('*') {
                Some((name, n)) => match n.parse::<usize>() {
                    Ok(n) if n > MAX_REPEAT => {
                        return Err(format!(
                        "repeat count in stack frame `{part}` is too large (at most {MAX_REPEAT})"
                    ))
                    }
                    Ok(n) if n > 0 => (name, n),
                    _ => return Err(format!("bad repeat count in stack frame `{part}`")),
                },
                None => (part, 1),
            };
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!(
                    "bad stack `{text}`: frames are qualnames separated by ` > `"
                ));
            }
            if frames.len() + count > MAX_REPEAT {
                return Err(format!("bad stack `{text}`: more than {MAX_REPEAT} frames"));
            }
            frames.extend(std::iter::repeat_n(name.to_string(), count));
        }
        Ok(StackPattern(frames))
    }

    /// Whether `stack` holds this chain as a contiguous run.
    pub fn is_within(&self, stack: &[String]) -> bool {
        !self.0.is_empty() && stack.windows(self.0.len()).any(|w| w == self.0.as_slice())
    }
}

impl fmt::Display for StackPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fold_stack(&self.0))
    }
}

/// `a > b > b > b` → `a > b*3`.
pub fn fold_stack(frames: &[String]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let run = frames[i..].iter().take_while(|f| **f == frames[i]).count();
        parts.push(if run > 1 {
            format!("{}*{run}", frames[i])
        } else {
            frames[i].clone()
        });
        i += run;
    }
    parts.join(" > ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_contiguous_runs() {
        let stack: Vec<String> = ["<module>", "baz", "bar", "foo"].map(String::from).to_vec();
        assert!(StackPattern::parse("baz > bar").unwrap().is_within(&stack));
        assert!(!StackPattern::parse("baz > foo").unwrap().is_within(&stack));
        assert_eq!(
            StackPattern::parse("<module> > f*2 > g")
                .unwrap()
                .to_string(),
            "<module> > f*2 > g"
        );
        assert_eq!(
            fold_stack(&["a", "b", "b", "a"].map(String::from)),
            "a > b*2 > a"
        );
    }

    #[test]
    fn huge_repeat_counts_are_refused_not_allocated() {
        for text in [
            "foo*1000000000000",
            "foo*18446744073709551615",
            "foo*99999999999999999999",
        ] {
            let err = StackPattern::parse(text).unwrap_err();
            assert!(
                err.contains("too large") || err.starts_with("bad repeat count"),
                "{text}: {err}"
            );
        }
        assert_eq!(StackPattern::parse("a*10000").unwrap().0.len(), MAX_REPEAT);
        assert!(StackPattern::parse("a*10000 > b")
            .unwrap_err()
            .ends_with("more than 10000 frames"));
    }
}
