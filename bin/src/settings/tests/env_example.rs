//! Keeps `.env.example` in step with the loader: same variables, same defaults.

use std::cell::RefCell;

use crate::settings::Settings;

/// The example file at the workspace root.
const ENV_EXAMPLE: &str = include_str!("../../../../.env.example");

/// Every `# NAME=value` line of the example file, uncommented.
fn example_entries() -> Vec<(String, String)> {
    ENV_EXAMPLE
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter_map(|line| line.split_once('='))
        .filter(|(name, _)| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

#[test]
fn the_example_file_lists_exactly_the_variables_the_loader_reads() {
    let asked = RefCell::new(Vec::new());
    Settings::from_lookup(|key| {
        asked.borrow_mut().push(key.to_owned());
        None
    })
    .unwrap();
    let mut asked = asked.into_inner();
    asked.sort();
    let mut listed: Vec<String> = example_entries()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    listed.sort();
    assert_eq!(listed, asked);
}

#[test]
fn the_example_file_values_are_the_defaults() {
    let entries = example_entries();
    let from_example = Settings::from_lookup(|key| {
        entries
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    })
    .unwrap();
    let defaults = Settings::from_lookup(|_| None).unwrap();
    assert_eq!(format!("{from_example:?}"), format!("{defaults:?}"));
}
