//! The common-password list, kept as one sorted text and searched in place.
//!
//! The list (about 100,000 leaked passwords, from the MIT-licensed `passwords` crate) is one
//! password per line, sorted by bytes, in `data/common-passwords.txt`. It is compiled in as a
//! single string and binary-searched by byte offset, so it needs no table of string slices: such
//! a table is 1.6 MB of pointers that the loader relocates at every start, private memory in
//! every process, where the text stays clean, shared and mapped on demand.

use std::cmp::Ordering;

/// The list: one password per line, sorted by bytes, no duplicates, no empty line.
static LIST: &str = include_str!("../../data/common-passwords.txt");

/// Whether `password` is on the list, exactly as written.
pub(super) fn contains(password: &str) -> bool {
    contains_line(LIST, password)
}

/// Whether `needle` is a whole line of `sorted`, a newline-separated list sorted by bytes.
///
/// A binary search over byte offsets: each probe lands inside some line, backs up to its start
/// and compares the line. `low` and `high` are always line starts (or the end), so the lines
/// still in question are exactly those starting in `low..high`.
fn contains_line(sorted: &str, needle: &str) -> bool {
    let bytes = sorted.as_bytes();
    let (mut low, mut high) = (0, bytes.len());
    while low < high {
        let probe = low + (high - low) / 2;
        let start = bytes[..probe]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |offset| start + offset);
        match bytes[start..end].cmp(needle.as_bytes()) {
            Ordering::Equal => return true,
            Ordering::Less => low = end + 1,
            Ordering::Greater => high = start,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_without_duplicates_or_empty_lines() {
        let lines: Vec<&str> = LIST.lines().collect();
        assert!(lines.len() > 90_000, "{} lines", lines.len());
        assert!(lines.iter().all(|line| !line.is_empty()));
        assert!(
            lines
                .windows(2)
                .all(|pair| pair[0].as_bytes() < pair[1].as_bytes()),
            "not strictly sorted by bytes"
        );
    }

    #[test]
    fn every_line_of_the_list_is_found() {
        for line in LIST.lines() {
            assert!(contains(line), "{line:?}");
        }
    }

    #[test]
    fn what_is_not_a_whole_line_is_not_found() {
        let first = LIST.lines().next().unwrap_or_default();
        let last = LIST.lines().last().unwrap_or_default();
        for absent in [
            "",
            "\n",
            "correct horse battery staple",
            "passwordx7q",
            "qzpassword",
            "password\npassword",
            "password ",
            " password",
            "\u{10ffff}",
        ] {
            assert!(!contains(absent), "{absent:?}");
        }
        assert!(contains("password"));
        assert!(!contains(&format!("{first}{first}")));
        assert!(!contains(&format!("{last}x")));
    }

    #[test]
    fn a_list_without_a_final_newline_and_tiny_lists_are_searched_whole() {
        let list = "alpha\nbeta\ngamma";
        for word in ["alpha", "beta", "gamma"] {
            assert!(contains_line(list, word), "{word}");
        }
        for word in [
            "", "a", "alphabet", "betb", "delta", "gamm", "gammaa", "zeta",
        ] {
            assert!(!contains_line(list, word), "{word}");
        }
        assert!(contains_line("only", "only"));
        assert!(!contains_line("", ""));
        assert!(!contains_line("", "x"));
    }
}
