//! `*` wildcard matching for `key:` and `group:` patterns.
//!
//! `*` matches any run of characters, `/` included (`key:raw/*` matches `raw/orders/daily`);
//! every other character matches itself. The whole text must match.

/// Whether `text` matches `pattern`.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was and which text position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn star_matches_any_run_including_slashes() {
        assert!(wildcard_match("raw*", "raw/orders"));
        assert!(wildcard_match("*orders*", "orders"));
        assert!(wildcard_match("a/*/c", "a/b/x/c"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a**b", "ab"));
        assert!(!wildcard_match("a*", "ba"));
        assert!(!wildcard_match("", "a"));
        assert!(!wildcard_match("a*c", "abcd"));
        assert!(wildcard_match("exact", "exact"));
    }
}
