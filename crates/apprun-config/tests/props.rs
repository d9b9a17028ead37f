//! Property-based tests of the config reader (issue 16): any text, any
//! mutation of the shipped config, and any value length never panic, finish
//! quickly, and keep messages short.

use std::time::{Duration, Instant};

use apprun_config::{Config, LoadError, SHOWN_CHARS};
use proptest::prelude::*;

const QUICK: Duration = Duration::from_secs(1);

fn shipped() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../apprun.toml")).unwrap()
}

fn parse_within_bound(text: &str) -> Result<Config, LoadError> {
    let start = Instant::now();
    let result = Config::parse(text, "apprun.toml");
    let took = start.elapsed();
    assert!(took < QUICK, "{} bytes took {took:?}", text.len());
    result
}

fn toml_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            '[', ']', '{', '}', '=', '"', '\'', '.', ',', '#', '\n', ' ', '\\', '\u{1b}', '\u{0}',
            '\u{202e}',
        ]),
        any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in prop::collection::vec(toml_char(), 0..2000)) {
        let text: String = text.into_iter().collect();
        let _ = parse_within_bound(&text);
    }

    #[test]
    fn mutated_configs_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), toml_char(), 0u8..3), 1..20)
    ) {
        let mut chars: Vec<char> = shipped().chars().collect();
        for (at, c, op) in edits {
            let i = at.index(chars.len().max(1)).min(chars.len());
            match op {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        let text: String = chars.into_iter().collect();
        if let Err(LoadError::Invalid { errors, .. }) = parse_within_bound(&text) {
            // Every error has a line inside the file.
            let lines = text.split('\n').count();
            prop_assert!(errors.iter().all(|e| e.line >= 1 && e.line <= lines));
        }
    }

    #[test]
    fn long_values_give_short_messages(len in 100usize..200_000, field in 0usize..3) {
        let value = "Z".repeat(len);
        let text = shipped();
        let key = ["\nid = \"", "\nregion = \"", "\nnetwork = \""][field];
        let start = text.find(key).unwrap() + key.len();
        let end = start + text[start..].find('"').unwrap();
        let text = format!("{}{value}{}", &text[..start], &text[end..]);
        match parse_within_bound(&text) {
            Err(LoadError::Invalid { errors, .. }) => {
                for e in &errors {
                    prop_assert!(e.message.len() < 2 * SHOWN_CHARS + 400, "{}", e.message.len());
                }
                let stated = format!("({len} characters)");
                prop_assert!(errors.iter().any(|e| e.message.contains(&stated)));
            }
            _ => prop_assert!(false, "a {}-character value was accepted", len),
        }
    }
}
