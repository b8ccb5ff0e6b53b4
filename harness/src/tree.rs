//! A `perf report`-style call tree of the `py::` frames, callers at the top,
//! with each node's inclusive share of the process's samples.

use crate::observe::ProcessObservation;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Default)]
struct Node {
    count: usize,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, stack: &[String], count: usize) {
        self.count += count;
        if let Some((first, rest)) = stack.split_first() {
            self.children
                .entry(first.clone())
                .or_default()
                .insert(rest, count);
        }
    }
}

fn percent(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 * 100.0 / total as f64
    }
}

/// Follows a recursion (`name` whose only child is `name` again) down to its
/// last level: the tree shows it once as `name*depth`.
fn fold_recursion<'a>(name: &str, mut node: &'a Node) -> (usize, &'a Node) {
    let mut depth = 1;
    while node.children.len() == 1 {
        match node.children.get(name) {
            Some(child) => {
                node = child;
                depth += 1;
            }
            None => break,
        }
    }
    (depth, node)
}

/// `prefix` is `None` for the top level, which has no branch lines.
fn print_children(
    out: &mut String,
    node: &Node,
    prefix: Option<&str>,
    total: usize,
    min_percent: f64,
) {
    let mut children: Vec<(&String, &Node)> = node
        .children
        .iter()
        .filter(|(_, c)| percent(c.count, total) >= min_percent)
        .collect();
    // Heaviest first, then by name, as perf report sorts.
    children.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    let shown = children.len();
    for (i, (name, child)) in children.into_iter().enumerate() {
        let last = i + 1 == shown;
        let (depth, deepest) = fold_recursion(name, child);
        let label = if depth > 1 {
            format!("{name}*{depth}")
        } else {
            name.clone()
        };
        let (line_prefix, child_prefix) = match prefix {
            None => (String::new(), String::new()),
            Some(p) if last => (format!("{p}└─ "), format!("{p}   ")),
            Some(p) => (format!("{p}├─ "), format!("{p}│  ")),
        };
        let _ = writeln!(
            out,
            "{:>6.2}%  {line_prefix}{label}",
            percent(child.count, total)
        );
        print_children(out, deepest, Some(&child_prefix), total, min_percent);
    }
}

/// The call tree of one process. Nodes under `min_percent` of the samples
/// are left out.
pub fn render(process: &ProcessObservation, min_percent: f64) -> String {
    let mut root = Node::default();
    for (stack, count) in &process.stacks {
        root.insert(stack, *count);
    }
    let total = process.samples;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{total} samples, {} ({:.1}%) with py:: frames",
        root.count,
        percent(root.count, total)
    );
    print_children(&mut out, &root, None, total, min_percent);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::StackPattern;

    fn process(stacks: &[(&str, usize)], samples: usize) -> ProcessObservation {
        ProcessObservation {
            samples,
            stacks: stacks
                .iter()
                .map(|(s, n)| (StackPattern::parse(s).unwrap().0, *n))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_chain_prints_nested_with_inclusive_percentages() {
        let p = process(
            &[("<module> > baz > bar > foo", 90), ("<module> > baz", 5)],
            100,
        );
        let expected = "\
100 samples, 95 (95.0%) with py:: frames
 95.00%  <module>
 95.00%  └─ baz
 90.00%     └─ bar
 90.00%        └─ foo
";
        assert_eq!(render(&p, 0.5), expected);
    }

    #[test]
    fn siblings_sort_heaviest_first_and_small_ones_are_hidden() {
        let p = process(
            &[
                ("<module> > a > x", 30),
                ("<module> > b", 60),
                ("<module> > c", 1),
                ("k", 9),
            ],
            200,
        );
        let expected = "\
200 samples, 100 (50.0%) with py:: frames
 45.50%  <module>
 30.00%  ├─ b
 15.00%  └─ a
 15.00%     └─ x
  4.50%  k
";
        assert_eq!(render(&p, 1.0), expected);
    }

    #[test]
    fn a_stack_with_all_samples_still_draws_branches() {
        let p = process(&[("<module> > a > b", 10)], 10);
        assert_eq!(
            render(&p, 0.0).lines().skip(1).collect::<Vec<_>>(),
            ["100.00%  <module>", "100.00%  └─ a", "100.00%     └─ b"]
        );
    }

    #[test]
    fn recursion_is_folded_to_one_line() {
        let p = process(
            &[("<module> > rec*50 > spin", 80), ("<module> > rec*3", 2)],
            100,
        );
        let text = render(&p, 1.0);
        assert_eq!(text.lines().nth(2).unwrap(), " 82.00%  └─ rec*50");
        assert_eq!(text.lines().nth(3).unwrap(), " 80.00%     └─ spin");
    }
}
