//! The dependency graph between components: unknown names, cycles, and
//! which components a DOWN dependency impairs. Pure functions over indices,
//! so bad graphs give findings, never a panic or an endless walk.

/// Each component's dependencies as indices, and the names not registered.
pub(crate) struct Graph {
    pub(crate) edges: Vec<Vec<usize>>,
    pub(crate) unknown: Vec<Vec<String>>,
}

impl Graph {
    /// Resolves `depends_on[i]` (names) against `names`.
    pub(crate) fn new(names: &[&str], depends_on: &[Vec<String>]) -> Self {
        let mut edges = Vec::with_capacity(names.len());
        let mut unknown = Vec::with_capacity(names.len());
        for deps in depends_on {
            let (mut known, mut missing) = (Vec::new(), Vec::new());
            for dep in deps {
                match names.iter().position(|n| n == dep) {
                    Some(j) if !known.contains(&j) => known.push(j),
                    Some(_) => {}
                    None => missing.push(dep.clone()),
                }
            }
            edges.push(known);
            unknown.push(missing);
        }
        Self { edges, unknown }
    }

    /// Every cycle once, as the indices along it, starting at its smallest.
    pub(crate) fn cycles(&self) -> Vec<Vec<usize>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut marks = vec![Mark::New; self.edges.len()];
        let mut found: Vec<Vec<usize>> = Vec::new();
        for root in 0..self.edges.len() {
            if marks[root] != Mark::New {
                continue;
            }
            // Iterative depth-first walk: (node, next edge to follow).
            let mut path: Vec<(usize, usize)> = vec![(root, 0)];
            marks[root] = Mark::OnPath;
            while let Some(&mut (node, ref mut next)) = path.last_mut() {
                let Some(&to) = self.edges[node].get(*next) else {
                    marks[node] = Mark::Done;
                    path.pop();
                    continue;
                };
                *next += 1;
                match marks[to] {
                    Mark::New => {
                        marks[to] = Mark::OnPath;
                        path.push((to, 0));
                    }
                    Mark::OnPath => {
                        let start = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[start..].iter().map(|(n, _)| *n).collect();
                        let smallest = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, n)| **n)
                            .map_or(0, |(i, _)| i);
                        cycle.rotate_left(smallest);
                        if !found.contains(&cycle) {
                            found.push(cycle);
                        }
                    }
                    Mark::Done => {}
                }
            }
        }
        found
    }

    /// The components `from` depends on, directly or not, that are `down`
    /// (itself excluded), in the order met.
    pub(crate) fn down_dependencies(&self, from: usize, down: &[bool]) -> Vec<usize> {
        let mut seen = vec![false; self.edges.len()];
        seen[from] = true;
        let mut queue: Vec<usize> = self.edges[from].clone();
        let mut result = Vec::new();
        while let Some(node) = queue.pop() {
            if std::mem::replace(&mut seen[node], true) {
                continue;
            }
            if down[node] {
                result.push(node);
            }
            queue.extend(self.edges[node].iter().copied().filter(|n| !seen[*n]));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(deps: &[&[&str]]) -> Graph {
        let names = ["a", "b", "c", "d"];
        let depends_on: Vec<Vec<String>> = deps
            .iter()
            .map(|d| d.iter().map(|s| s.to_string()).collect())
            .collect();
        Graph::new(&names[..deps.len()], &depends_on)
    }

    #[test]
    fn unknown_names_are_listed() {
        let g = graph(&[&["b", "x"], &[]]);
        assert_eq!(g.edges[0], vec![1]);
        assert_eq!(g.unknown[0], vec!["x".to_string()]);
    }

    #[test]
    fn cycles_are_found_once_each() {
        // a -> b -> c -> a, and d -> d.
        let g = graph(&[&["b"], &["c"], &["a"], &["d"]]);
        assert_eq!(g.cycles(), vec![vec![0, 1, 2], vec![3]]);
        assert!(graph(&[&["b"], &["c"], &[]]).cycles().is_empty());
    }

    #[test]
    fn impairment_follows_dependencies_transitively_even_around_cycles() {
        // a -> b -> c -> a; c is down.
        let g = graph(&[&["b"], &["c"], &["a"], &[]]);
        let down = [false, false, true, false];
        assert_eq!(g.down_dependencies(0, &down), vec![2]);
        assert_eq!(g.down_dependencies(1, &down), vec![2]);
        assert!(g.down_dependencies(2, &down).is_empty(), "not itself");
        assert!(g.down_dependencies(3, &down).is_empty());
    }
}
