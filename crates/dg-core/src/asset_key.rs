//! Asset keys: a path of string components, written `a/b/c` by users.
//!
//! Dagster's user-facing spelling of a key joins the components with `/`, and a string given by a
//! user is split on `/` to make a key (`raw/orders` is the two-component key `["raw", "orders"]`).
//! Both directions live here so the parser, the evaluator and callers agree on them. Serialised
//! (JSON, messages, the web API) a key is the plain list of its components; stored in Dagster's
//! tables it is that list as a JSON string ([`AssetKey::to_db_string`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The key of an asset: one or more path components.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssetKey(pub Vec<String>);

impl AssetKey {
    /// A key from its components.
    pub fn new<I, S>(path: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AssetKey(path.into_iter().map(Into::into).collect())
    }

    /// Splits a user string on `/`, as Dagster does (`a/b` is `["a", "b"]`, `a/` is `["a", ""]`).
    pub fn from_user_string(text: &str) -> Self {
        AssetKey(text.split('/').map(str::to_owned).collect())
    }

    /// The components of the key.
    pub fn path(&self) -> &[String] {
        &self.0
    }

    /// The components joined with `/`: what users write and what `key:` patterns match against.
    pub fn to_user_string(&self) -> String {
        self.0.join("/")
    }

    /// The form Dagster stores in its tables: the components as a JSON list (`["a","b"]`).
    pub fn to_db_string(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    /// Parses the stored form; `None` when it is not a JSON list of strings.
    pub fn from_db_string(s: &str) -> Option<Self> {
        serde_json::from_str(s).ok().map(Self)
    }
}

impl fmt::Display for AssetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_user_string())
    }
}

/// A key reads as the slice of its components (`key.join("/")`, `key.len()`, `key[0]`).
impl std::ops::Deref for AssetKey {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

/// Maps and sets keyed by `AssetKey` can be searched with a `&[String]` (hash, equality and
/// order are those of the components).
impl std::borrow::Borrow<[String]> for AssetKey {
    fn borrow(&self) -> &[String] {
        &self.0
    }
}

impl From<Vec<String>> for AssetKey {
    fn from(path: Vec<String>) -> Self {
        AssetKey(path)
    }
}

impl From<&str> for AssetKey {
    fn from(text: &str) -> Self {
        AssetKey::from_user_string(text)
    }
}

impl From<String> for AssetKey {
    fn from(text: String) -> Self {
        AssetKey::from_user_string(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_strings_split_and_join_on_slashes() {
        let key = AssetKey::from_user_string("raw/orders");
        assert_eq!(key.path(), ["raw", "orders"]);
        assert_eq!(key.to_user_string(), "raw/orders");
        assert_eq!(AssetKey::from_user_string("raw/").path(), ["raw", ""]);
        assert_eq!(AssetKey::new(["a"]).to_string(), "a");
    }

    #[test]
    fn serialises_as_a_list_and_stores_as_a_json_string() {
        let key = AssetKey::new(["raw", "orders"]);
        assert_eq!(serde_json::to_string(&key).unwrap(), r#"["raw","orders"]"#);
        assert_eq!(key.to_db_string(), r#"["raw","orders"]"#);
        assert_eq!(AssetKey::from_db_string(r#"["raw","orders"]"#), Some(key));
        assert_eq!(AssetKey::from_db_string("raw/orders"), None);
    }
}
