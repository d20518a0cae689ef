//! Suggestions of existing keys when a bare key is unknown.
//!
//! Like Dagster, a key is similar when its last component and its prefix are each close to
//! those of the missing key (a normalized edit-distance ratio of at least 0.8).

use dg_core::AssetKey;

/// At most this many suggestions per missing key.
const MAX_SUGGESTIONS: usize = 10;

/// Existing keys that look like `missing`, most similar first.
pub(crate) fn similar_keys<'a>(
    missing: &AssetKey,
    known: impl Iterator<Item = &'a AssetKey>,
) -> Vec<AssetKey> {
    let (missing_name, missing_prefix) = split(missing);
    let mut scored: Vec<(f64, &AssetKey)> = known
        .filter_map(|key| {
            let (name, prefix) = split(key);
            let name_score = ratio(&name, &missing_name);
            (name_score >= 0.8 && ratio(&prefix, &missing_prefix) >= 0.8)
                .then_some((name_score, key))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, key)| key.clone())
        .collect()
}

fn split(key: &AssetKey) -> (String, String) {
    match key.path().split_last() {
        Some((name, prefix)) => (name.clone(), prefix.join(" ")),
        None => (String::new(), String::new()),
    }
}

/// `1 - distance / combined length`, 1.0 for two empty strings.
fn ratio(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    // Indel distance (insertions and deletions only), as fuzzy-matching ratios use.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut previous_diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb {
                previous_diagonal
            } else {
                1 + above.min(row[j])
            };
            previous_diagonal = above;
        }
    }
    1.0 - row[b.len()] as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_keys_with_close_names_and_prefixes() {
        let known = [
            AssetKey::from_user_string("raw/orders"),
            AssetKey::from_user_string("raw/customers"),
            AssetKey::from_user_string("orders"),
        ];
        let found = similar_keys(&AssetKey::from_user_string("raw/ordrs"), known.iter());
        assert_eq!(found, vec![AssetKey::from_user_string("raw/orders")]);
        assert!(similar_keys(&AssetKey::from_user_string("zzz"), known.iter()).is_empty());
        assert!((ratio("abc", "abc") - 1.0).abs() < f64::EPSILON);
        assert!((ratio("ab", "") - 0.0).abs() < f64::EPSILON);
    }
}
