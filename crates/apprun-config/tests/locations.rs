//! Errors point at the key they are about, however deep (issue 16).

use apprun_config::{Config, LoadError};

fn shipped() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../apprun.toml")).unwrap()
}

fn errors(text: &str) -> Vec<(usize, String, String)> {
    match Config::parse(text, "apprun.toml") {
        Err(LoadError::Invalid { errors, .. }) => errors
            .into_iter()
            .map(|e| (e.line, e.key, e.message))
            .collect(),
        other => panic!("not invalid: {:?}", other.map(|_| ())),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn an_unknown_dotted_key_is_reported_at_its_own_line() {
    let text = shipped().replacen(
        "[services.web.release]\n",
        "[services.web.release]\n\n# a comment\nbogus.deeper.still = 1\n",
        1,
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, line_of(&text, "bogus.deeper"), "{errs:?}");
    assert!(errs[0].2.contains("unknown field `bogus`"), "{errs:?}");
}

#[test]
fn a_deep_value_error_is_reported_at_its_line() {
    let text = shipped().replacen("interval = 10", "interval = 99", 1);
    let errs = errors(&text);
    assert_eq!(errs[0].0, line_of(&text, "interval = 99"), "{errs:?}");
    assert_eq!(errs[0].1, "services.web.health.interval");
}

#[test]
fn a_prefix_beyond_32_is_not_a_cidr_block() {
    let text = shipped().replacen("network = \"10.0.1.0/24\"", "network = \"10.0.0.0/33\"", 1);
    let errs = errors(&text);
    assert!(
        errs.iter().any(
            |(line, key, message)| *line == line_of(&text, "10.0.0.0/33")
                && key == "env.stg.network"
                && message.contains("is not an IPv4 CIDR block")
        ),
        "{errs:?}"
    );
}
