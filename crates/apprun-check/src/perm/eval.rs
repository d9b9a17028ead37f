//! Policy evaluation as IAM does it, for identity-based policies: an
//! explicit Deny wins; otherwise an Allow whose Action/NotAction,
//! Resource/NotResource and conditions all match allows; otherwise the
//! request is implicitly denied. Action names compare case-insensitively,
//! ARNs case-sensitively, `*` and `?` are wildcards.
//!
//! Values the checked templates do not determine are written as
//! [`UNKNOWN`] characters: only a `*` in a pattern matches them, since
//! only a pattern that allows any value there allows whatever the value
//! turns out to be. A policy value the proof cannot resolve holds
//! [`UNRESOLVED`]: it matches nothing, and a decision that hinges on it is
//! "cannot prove", not "denied".

use std::collections::BTreeMap;

use super::data;

/// One part of a value (an ARN segment, a name) the templates do not determine.
pub(crate) const UNKNOWN: char = '\u{E000}';
/// One part of a policy the proof could not resolve.
pub(crate) const UNRESOLVED: char = '\u{E001}';
/// Exactly one character the templates do not determine (the random
/// suffix Secrets Manager appends to a secret's name): `?` matches it as it
/// matches any single character, a literal does not.
pub(crate) const UNKNOWN_ONE: char = '\u{E002}';

/// Shows a value with its unknown parts as `*` (one unknown character as
/// `?`) and unresolved ones as `{unresolved}`.
pub(crate) fn show(s: &str) -> String {
    s.replace(UNKNOWN, "*")
        .replace(UNKNOWN_ONE, "?")
        .replace(UNRESOLVED, "{unresolved}")
}

/// IAM's wildcard match. `*` matches any run of characters (unknown ones
/// included), `?` exactly one known character, anything else itself.
/// Works on bytes without allocating: it runs for every statement of every
/// request, and the proof has a 5 ms budget.
pub(crate) fn glob(pattern: &str, value: &str, ignore_case: bool) -> bool {
    const UNKNOWN_UTF8: [u8; 3] = [0xEE, 0x80, 0x80];
    const UNRESOLVED_UTF8: [u8; 3] = [0xEE, 0x80, 0x81];
    const UNKNOWN_ONE_UTF8: [u8; 3] = [0xEE, 0x80, 0x82];
    let (p, v) = (pattern.as_bytes(), value.as_bytes());
    // Length of the character starting at v[i] that `?` may match (0: none).
    let one = |i: usize| -> usize {
        let b = v[i];
        if b < 0x80 {
            1
        } else if v[i..].starts_with(&UNKNOWN_UTF8) || v[i..].starts_with(&UNRESOLVED_UTF8) {
            0
        } else {
            match b {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            }
        }
    };
    let same = |a: u8, b: u8| a == b || (ignore_case && a.eq_ignore_ascii_case(&b));
    // Iterative wildcard matching with one backtrack point (the last `*`).
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && p[pi] == b'?' && one(vi) > 0 {
            vi += one(vi);
            pi += 1;
        } else if pi < p.len() && p[pi] != b'?' && v[vi] != 0xEE && same(p[pi], v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len()
            && p[pi] != b'?'
            && v[vi] == 0xEE
            && p[pi] == 0xEE
            && !v[vi..].starts_with(&UNKNOWN_UTF8)
            && !v[vi..].starts_with(&UNRESOLVED_UTF8)
            && !v[vi..].starts_with(&UNKNOWN_ONE_UTF8)
        {
            // A literal non-ASCII character of the private-use block (rare).
            pi += 1;
            vi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// Whether a Resource pattern covers an ARN. `*` alone covers everything;
/// otherwise the first five `:`-separated segments match one by one and the
/// rest (the resource part, which may contain `:`) as a whole.
pub(crate) fn resource_matches(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == a.len() && p.iter().zip(&a).all(|(p, a)| glob(p, a, false))
}

/// A condition of a statement: operator, key, values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub op: String,
    pub key: String,
    pub values: Vec<String>,
}

/// One statement of an identity-based policy, with its values resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub allow: bool,
    /// `true` when the list is NotAction.
    pub not_action: bool,
    pub actions: Vec<String>,
    /// `true` when the list is NotResource.
    pub not_resource: bool,
    pub resources: Vec<String>,
    pub conditions: Vec<Condition>,
    /// Where it comes from, for messages: `PipelineRole policy P statement Sid`.
    pub label: String,
}

/// One call to authorize: the action, one resource ARN (or `*` for actions
/// without resource types) and the condition keys whose values are known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub action: String,
    pub resource: String,
    /// Lowercased key → values. Keys the action does not support are absent.
    pub context: BTreeMap<String, Vec<String>>,
}

/// The outcome for one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    Allowed,
    /// An explicit Deny matched (its label).
    Denied(String),
    /// No statement allows it; the statement that came closest, if any.
    NotAllowed(Option<String>),
    /// Whether it is allowed depends on something the templates do not
    /// say: (statement, what is unknown).
    Unknown(String, String),
}

/// Three-valued logic for conditions whose key's value may be unknown.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tri {
    Yes,
    No,
    Maybe,
}

impl Statement {
    fn action_matches(&self, action: &str) -> bool {
        let any = self.actions.iter().any(|p| glob(p, action, true));
        any != self.not_action
    }

    fn resource_matches(&self, resource: &str) -> Tri {
        let hit = self.resources.iter().any(|p| resource_matches(p, resource));
        if hit != self.not_resource {
            return Tri::Yes;
        }
        // A pattern the proof could not resolve might have matched.
        if self.resources.iter().any(|p| p.contains(UNRESOLVED)) {
            Tri::Maybe
        } else {
            Tri::No
        }
    }

    /// All conditions hold (Yes), one fails (No), or one depends on an
    /// unknown value (Maybe, with the key).
    fn conditions_hold(&self, req: &Request) -> (Tri, Option<String>) {
        let mut maybe = None;
        for c in &self.conditions {
            match condition_holds(c, req) {
                Tri::No => return (Tri::No, Some(c.key.clone())),
                Tri::Maybe => maybe = Some(c.key.clone()),
                Tri::Yes => {}
            }
        }
        match maybe {
            Some(k) => (Tri::Maybe, Some(k)),
            None => (Tri::Yes, None),
        }
    }
}

/// Whether a key can appear in a request for this action at all: global
/// `aws:` keys can, service keys only when the reference lists them for the
/// action (or for `iam:PassRole`'s own keys).
fn key_supported(action: &str, key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.starts_with("aws:") {
        return true;
    }
    match data::action(action) {
        Some((_, _, a)) => a.conditions.iter().any(|k| {
            let k = k.to_ascii_lowercase();
            // `aws:RequestTag/${TagKey}` style keys cover every tag key.
            match k.split_once("${") {
                Some((prefix, _)) => key.starts_with(prefix),
                None => k == key,
            }
        }),
        // An action the reference does not know: assume the key may be there.
        None => true,
    }
}

fn condition_holds(c: &Condition, req: &Request) -> Tri {
    let mut op = c.op.as_str();
    let if_exists = op.ends_with("IfExists");
    if if_exists {
        op = &op[..op.len() - "IfExists".len()];
    }
    let (any_value, all_values) = match op.split_once(':') {
        Some(("ForAnyValue", rest)) => {
            op = rest;
            (true, false)
        }
        Some(("ForAllValues", rest)) => {
            op = rest;
            (false, true)
        }
        _ => (false, false),
    };
    let key = c.key.to_ascii_lowercase();
    let value = req.context.get(&key);
    if op == "Null" {
        let want_absent = c.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return match value {
            Some(_) => tri(!want_absent),
            None if key_supported(&req.action, &c.key) && !key.starts_with("aws:") => Tri::Maybe,
            None => tri(want_absent),
        };
    }
    let negated = op.contains("Not");
    let Some(values) = value else {
        if !key_supported(&req.action, &c.key) {
            // The key is never in this request: IAM treats the condition as
            // false, except for IfExists and negated operators.
            return tri(if_exists || negated || all_values);
        }
        return Tri::Maybe;
    };
    if values.iter().any(|v| v.contains(UNKNOWN)) {
        return Tri::Maybe;
    }
    let one = |v: &str| -> Option<bool> {
        let m = match op {
            "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" => {
                c.values.iter().any(|p| p == v)
            }
            "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
                c.values.iter().any(|p| p.eq_ignore_ascii_case(v))
            }
            "StringLike" | "StringNotLike" => c.values.iter().any(|p| glob(p, v, false)),
            "ArnLike" | "ArnNotLike" => c.values.iter().any(|p| resource_matches(p, v)),
            "Bool" => c.values.iter().any(|p| p.eq_ignore_ascii_case(v)),
            _ => return None,
        };
        Some(m != negated)
    };
    let results: Option<Vec<bool>> = values.iter().map(|v| one(v)).collect();
    let Some(results) = results else {
        return Tri::Maybe;
    };
    if any_value {
        tri(results.iter().any(|r| *r))
    } else if all_values {
        tri(results.iter().all(|r| *r))
    } else {
        tri(!results.is_empty() && results.iter().all(|r| *r))
    }
}

fn tri(b: bool) -> Tri {
    if b { Tri::Yes } else { Tri::No }
}

/// Evaluates one request against every statement of the principal's
/// identity-based policies.
pub(crate) fn evaluate(statements: &[Statement], req: &Request) -> Verdict {
    let mut allowed = false;
    let mut deny_maybe: Option<(String, String)> = None;
    let mut allow_maybe: Option<(String, String)> = None;
    // (score, label): how close a non-matching Allow came.
    let mut closest: Option<(u8, &str)> = None;
    for s in statements {
        if !s.action_matches(&req.action) {
            continue;
        }
        let res = s.resource_matches(&req.resource);
        let (cond, key) = s.conditions_hold(req);
        let why = || {
            (
                s.label.clone(),
                key.clone()
                    .unwrap_or_else(|| "an unresolved Resource".into()),
            )
        };
        match (s.allow, res, cond) {
            (false, Tri::Yes, Tri::Yes) => return Verdict::Denied(s.label.clone()),
            (true, Tri::Yes, Tri::Yes) => allowed = true,
            (allow, Tri::No, _) | (allow, _, Tri::No) => {
                if allow {
                    let score = if res == Tri::Yes { 2 } else { 1 };
                    if closest.is_none_or(|(b, _)| score > b) {
                        closest = Some((score, &s.label));
                    }
                }
            }
            (false, _, _) => {
                deny_maybe.get_or_insert_with(why);
            }
            (true, _, _) => {
                allow_maybe.get_or_insert_with(why);
            }
        }
    }
    if let Some((label, key)) = deny_maybe {
        return Verdict::Unknown(label, key);
    }
    if allowed {
        return Verdict::Allowed;
    }
    match allow_maybe {
        Some((label, key)) => Verdict::Unknown(label, key),
        None => Verdict::NotAllowed(closest.map(|(_, l)| l.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(allow: bool, actions: &[&str], resources: &[&str]) -> Statement {
        Statement {
            allow,
            not_action: false,
            actions: actions.iter().map(|s| s.to_string()).collect(),
            not_resource: false,
            resources: resources.iter().map(|s| s.to_string()).collect(),
            conditions: Vec::new(),
            label: actions.join(","),
        }
    }

    fn req(action: &str, resource: &str) -> Request {
        Request {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    #[test]
    fn glob_handles_stars_question_marks_and_unknowns() {
        assert!(glob("a*c", "abbbc", false));
        assert!(glob("a?c", "abc", false));
        assert!(!glob("a?c", "abbc", false));
        assert!(glob("*", "", false));
        assert!(glob("s3:Get*", "S3:GETOBJECT", true));
        assert!(!glob("s3:Get*", "S3:GETOBJECT", false));
        let unknown = format!("service/web/{UNKNOWN}");
        assert!(glob("service/web/*", &unknown, false));
        assert!(!glob("service/web/?", &unknown, false));
        assert!(!glob("service/web/abc", &unknown, false));
        // One unknown character: `?` and `*` match it, a literal does not.
        let suffix = format!("secret:db-{}", UNKNOWN_ONE.to_string().repeat(6));
        assert!(glob("secret:db-??????", &suffix, false));
        assert!(glob("secret:db-*", &suffix, false));
        assert!(!glob("secret:db-?????", &suffix, false));
        assert!(!glob("secret:db-AbC123", &suffix, false));
        assert_eq!(show(&suffix), "secret:db-??????");
    }

    #[test]
    fn resource_segments_match_separately() {
        assert!(resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/l"));
        assert!(resource_matches(
            "arn:aws:logs:r:1:log-group:/x/*",
            "arn:aws:logs:r:1:log-group:/x/y:log-stream:z"
        ));
        assert!(!resource_matches("arn:aws:s3:::b", "arn:aws:s3:::b/k"));
        assert!(resource_matches("*", "anything"));
        // `*` does not cover the request resource `*` of a resource-level action
        assert!(!resource_matches("arn:aws:ec2:*", "*"));
    }

    #[test]
    fn deny_wins_and_not_action_excludes() {
        let allow = st(true, &["s3:*"], &["*"]);
        let mut deny = st(false, &["s3:DeleteObject"], &["*"]);
        deny.label = "deny".into();
        assert_eq!(
            evaluate(std::slice::from_ref(&allow), &req("s3:DeleteObject", "x")),
            Verdict::Allowed
        );
        assert_eq!(
            evaluate(&[allow, deny], &req("s3:deleteobject", "x")),
            Verdict::Denied("deny".into())
        );
        let mut not = st(true, &["s3:Delete*"], &["*"]);
        not.not_action = true;
        assert_eq!(
            evaluate(&[not.clone()], &req("s3:GetObject", "x")),
            Verdict::Allowed
        );
        assert!(matches!(
            evaluate(&[not], &req("s3:DeleteBucket", "x")),
            Verdict::NotAllowed(_)
        ));
    }

    #[test]
    fn not_resource_allows_everything_else() {
        let mut s = st(true, &["s3:GetObject"], &["arn:aws:s3:::secret/*"]);
        s.not_resource = true;
        assert_eq!(
            evaluate(&[s.clone()], &req("s3:GetObject", "arn:aws:s3:::open/k")),
            Verdict::Allowed
        );
        assert!(matches!(
            evaluate(&[s], &req("s3:GetObject", "arn:aws:s3:::secret/k")),
            Verdict::NotAllowed(_)
        ));
    }

    #[test]
    fn conditions_on_known_unknown_and_absent_keys() {
        let mut s = st(
            true,
            &["iam:PassRole", "iam:GetRole"],
            &["arn:aws:iam::1:role/r"],
        );
        s.conditions.push(Condition {
            op: "StringEquals".into(),
            key: "iam:PassedToService".into(),
            values: vec!["apprunner.amazonaws.com".into()],
        });
        let mut pass = req("iam:PassRole", "arn:aws:iam::1:role/r");
        pass.context.insert(
            "iam:passedtoservice".into(),
            vec!["apprunner.amazonaws.com".into()],
        );
        assert_eq!(evaluate(&[s.clone()], &pass), Verdict::Allowed);
        pass.context.insert(
            "iam:passedtoservice".into(),
            vec!["bullet.amazonaws.com".into()],
        );
        assert!(matches!(
            evaluate(&[s.clone()], &pass),
            Verdict::NotAllowed(Some(_))
        ));
        // GetRole never carries iam:PassedToService: the condition is false.
        let get = req("iam:GetRole", "arn:aws:iam::1:role/r");
        assert!(matches!(
            evaluate(&[s.clone()], &get),
            Verdict::NotAllowed(_)
        ));
        // PassRole with the value unknown: cannot prove.
        let unknown = req("iam:PassRole", "arn:aws:iam::1:role/r");
        assert!(
            matches!(evaluate(&[s], &unknown), Verdict::Unknown(_, k) if k == "iam:PassedToService")
        );
    }

    #[test]
    fn multi_resource_requests_are_separate() {
        let s = st(
            true,
            &["apprunner:AssociateWebAcl"],
            &["arn:aws:apprunner:r:1:service/web/*"],
        );
        let service = format!("arn:aws:apprunner:r:1:service/web/{UNKNOWN}");
        let acl = format!("arn:aws:wafv2:r:1:regional/webacl/web/{UNKNOWN}");
        assert_eq!(
            evaluate(
                std::slice::from_ref(&s),
                &req("apprunner:AssociateWebAcl", &service)
            ),
            Verdict::Allowed
        );
        assert!(matches!(
            evaluate(&[s], &req("apprunner:AssociateWebAcl", &acl)),
            Verdict::NotAllowed(Some(_))
        ));
    }
}
