//! Tokens of the selection language, with the same rules as Dagster's grammar.
//!
//! Keywords are lowercase only, except `and`/`AND`, `or`/`OR` and `not`/`NOT`. The longest match
//! wins and a tie goes to the earlier rule, so `and` is a keyword, `andy` a word, `*` the
//! all-assets star and `*x` or `a*` a wildcard word. Quoted strings have no escapes and cannot
//! hold `"`, `\` or line breaks. Spaces, tabs and line breaks separate tokens.

use std::borrow::Cow;
use std::fmt;

/// A token kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Equal,
    And,
    Or,
    Not,
    Star,
    Plus,
    Digits(String),
    Colon,
    LParen,
    RParen,
    Comma,
    /// A keyword that names an attribute or a function (`key`, `tag`, `sinks`, ...).
    Keyword(&'static str),
    Quoted(String),
    Word(String),
    Wildcard(String),
    Null,
    Eof,
}

/// Words that are keywords of the grammar, in its rule order.
pub(crate) const KEYWORDS: &[&str] = &[
    "key",
    "owner",
    "group",
    "tag",
    "kind",
    "is",
    "code_location",
    "status",
    "column",
    "table_name",
    "column_tag",
    "changed_in_branch",
    "partitions",
    "automation_type",
    "sensor",
    "schedule",
    "job",
    "sinks",
    "roots",
];

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Equal => f.write_str("`=`"),
            Tok::And => f.write_str("`and`"),
            Tok::Or => f.write_str("`or`"),
            Tok::Not => f.write_str("`not`"),
            Tok::Star => f.write_str("`*`"),
            Tok::Plus => f.write_str("`+`"),
            Tok::Digits(d) => write!(f, "number `{}`", shorten(d)),
            Tok::Colon => f.write_str("`:`"),
            Tok::LParen => f.write_str("`(`"),
            Tok::RParen => f.write_str("`)`"),
            Tok::Comma => f.write_str("`,`"),
            Tok::Keyword(k) => write!(f, "keyword `{k}`"),
            Tok::Quoted(s) => write!(f, "string `\"{}\"`", shorten(s)),
            Tok::Word(w) | Tok::Wildcard(w) => write!(f, "`{}`", shorten(w)),
            Tok::Null => f.write_str("`<null>`"),
            Tok::Eof => f.write_str("end of input"),
        }
    }
}

/// Characters of a token's text that a message quotes.
const QUOTED_CHARS: usize = 40;

/// `text` as a message quotes it: at most [`QUOTED_CHARS`] characters, then `...`, so that a
/// long token does not make a long message.
pub(crate) fn shorten(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(QUOTED_CHARS) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}...", &text[..cut])),
    }
}

/// A token and the character offset (0-based) where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub at: usize,
}

/// A character no token can start with, or an unterminated quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub at: usize,
    pub message: String,
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '/'
}

/// Splits `text` into tokens, ending with [`Tok::Eof`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            i += 1;
            continue;
        }
        let (tok, len) = match c {
            '=' => (Tok::Equal, 1),
            '+' => (Tok::Plus, 1),
            ':' => (Tok::Colon, 1),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '0'..='9' => {
                let len = run(&chars[i..], |c| c.is_ascii_digit());
                (Tok::Digits(collect(&chars[i..i + len])), len)
            }
            '"' => {
                let len = 1 + run(&chars[i + 1..], |c| !matches!(c, '"' | '\\' | '\r' | '\n'));
                if chars.get(i + len) != Some(&'"') {
                    return Err(LexError {
                        at: i,
                        message: "unterminated quoted string (quoted values cannot contain `\"`, `\\` or line breaks)".into(),
                    });
                }
                (Tok::Quoted(collect(&chars[i + 1..i + len])), len + 1)
            }
            '<' if chars[i..].starts_with(&['<', 'n', 'u', 'l', 'l', '>']) => (Tok::Null, 6),
            c if is_word_start(c) || c == '*' => word(&chars[i..]),
            other => {
                return Err(LexError {
                    at: i,
                    message: format!(
                        "unexpected character `{other}` (quote values that contain it)"
                    ),
                })
            }
        };
        tokens.push(Token { tok, at: i });
        i += len;
    }
    tokens.push(Token {
        tok: Tok::Eof,
        at: chars.len(),
    });
    Ok(tokens)
}

/// A word, wildcard word, keyword or the star, whichever is the longest match.
fn word(chars: &[char]) -> (Tok, usize) {
    let wild = 1 + run(&chars[1..], |c| is_word_char(c) || c == '*');
    let plain = if is_word_start(chars[0]) {
        1 + run(&chars[1..], is_word_char)
    } else {
        0
    };
    if wild > plain {
        if wild == 1 {
            return (Tok::Star, 1);
        }
        return (Tok::Wildcard(collect(&chars[..wild])), wild);
    }
    let text = collect(&chars[..plain]);
    let tok = match text.as_str() {
        "and" | "AND" => Tok::And,
        "or" | "OR" => Tok::Or,
        "not" | "NOT" => Tok::Not,
        other => match KEYWORDS.iter().find(|k| **k == other) {
            Some(keyword) => Tok::Keyword(keyword),
            None => Tok::Word(text),
        },
    };
    (tok, plain)
}

fn run(chars: &[char], pred: impl Fn(char) -> bool) -> usize {
    chars.iter().take_while(|c| pred(**c)).count()
}

fn collect(chars: &[char]) -> String {
    chars.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        tokenize(text).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn longest_match_then_earliest_rule() {
        assert_eq!(
            kinds("and andy AND And key keys"),
            vec![
                Tok::And,
                Tok::Word("andy".into()),
                Tok::And,
                Tok::Word("And".into()),
                Tok::Keyword("key"),
                Tok::Word("keys".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            kinds("* ** *a a* a/b"),
            vec![
                Tok::Star,
                Tok::Wildcard("**".into()),
                Tok::Wildcard("*a".into()),
                Tok::Wildcard("a*".into()),
                Tok::Word("a/b".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            kinds("12+x<null>\"a b\""),
            vec![
                Tok::Digits("12".into()),
                Tok::Plus,
                Tok::Word("x".into()),
                Tok::Null,
                Tok::Quoted("a b".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn positions_are_character_offsets() {
        let tokens = tokenize("é").unwrap_err();
        assert_eq!(tokens.at, 0);
        let tokens = tokenize("  key").unwrap();
        assert_eq!(tokens[0].at, 2);
        assert_eq!(tokens[1].at, 5);
    }

    #[test]
    fn rejects_unterminated_strings_and_stray_characters() {
        assert_eq!(tokenize("key:\"a").unwrap_err().at, 4);
        assert_eq!(tokenize("key:\"a\nb\"").unwrap_err().at, 4);
        assert_eq!(tokenize("a@b").unwrap_err().at, 1);
        assert_eq!(tokenize("<nul").unwrap_err().at, 0);
    }
}
