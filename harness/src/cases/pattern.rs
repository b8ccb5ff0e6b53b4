//! Stack patterns: how a case names a chain of `py::` frames.

use std::fmt;

/// A chain of `py::` frames, outermost first, by qualname. Written
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
        f.write_str(&crate::normalize::fold_stack(&self.0))
    }
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
    }
}
