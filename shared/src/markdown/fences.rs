//! Fenced code blocks, line by line, for tools that read Markdown as text (the
//! import's reference finder and tag translator, the first heading of a file):
//! a line starting with three backticks or tildes opens a block, and only a line
//! of three or more of the same and nothing else closes it, as CommonMark has it.

/// Tracks whether the lines seen so far left a fenced block open.
#[derive(Debug, Default)]
pub struct Fences {
    open: Option<&'static str>,
}

impl Fences {
    /// Whether `line` (the next line, with or without its line break) is code:
    /// inside a block, or the fence that opens or closes one.
    pub fn is_code(&mut self, line: &str) -> bool {
        let t = line.trim();
        let fence = ["```", "~~~"].into_iter().find(|f| t.starts_with(f));
        match (self.open, fence) {
            (None, Some(f)) => {
                self.open = Some(f);
                true
            }
            (Some(f), Some(g)) if f == g && t.trim_start_matches(&f[..1]).is_empty() => {
                self.open = None;
                true
            }
            (Some(_), _) => true,
            (None, None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Fences;

    #[test]
    fn only_the_same_bare_fence_closes_a_block() {
        let mut fences = Fences::default();
        let lines = ["text", "```ruby", "~~~", "```not a close", "````", "after"];
        let code: Vec<bool> = lines.iter().map(|l| fences.is_code(l)).collect();
        assert_eq!(code, [false, true, true, true, true, false]);
    }
}
