//! Values in formats AWS fixes: AMI ids (EC2 API reference), and Route 53
//! record values per record type (Route 53 Developer Guide, "Supported DNS
//! record types"; CAA per RFC 8659).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use apprun_template::{Intrinsic, Map, Value};
use regex::Regex;

use super::{is_dynamic, resources_of};
use crate::rules::{Scope, Sink};

fn regex(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

/// An EC2 id format: (what, prefix); the id is the prefix and 8 or 17
/// characters (AMI ids lowercase letters or digits, others hexadecimal).
#[derive(Clone, Copy)]
enum IdFormat {
    Image,
    Vpc,
    Subnet,
    SecurityGroup,
}

impl IdFormat {
    fn describe(self) -> &'static str {
        match self {
            IdFormat::Image => "an AMI id (ami- and 8 or 17 lowercase letters or digits)",
            IdFormat::Vpc => "a VPC id (vpc- and 8 or 17 hexadecimal digits)",
            IdFormat::Subnet => "a subnet id (subnet- and 8 or 17 hexadecimal digits)",
            IdFormat::SecurityGroup => "a security group id (sg- and 8 or 17 hexadecimal digits)",
        }
    }

    fn fits(self, s: &str) -> bool {
        static RES: [OnceLock<Option<Regex>>; 4] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        let (cell, pattern) = match self {
            IdFormat::Image => (&RES[0], r"^ami-([0-9a-z]{8}|[0-9a-z]{17})$"),
            IdFormat::Vpc => (&RES[1], r"^vpc-([0-9A-Fa-f]{8}|[0-9A-Fa-f]{17})$"),
            IdFormat::Subnet => (&RES[2], r"^subnet-([0-9A-Fa-f]{8}|[0-9A-Fa-f]{17})$"),
            IdFormat::SecurityGroup => (&RES[3], r"^sg-([0-9A-Fa-f]{8}|[0-9A-Fa-f]{17})$"),
        };
        // Resolved at deploy time: a dynamic reference, or EC2's own
        // `resolve:ssm:` form for image ids.
        is_dynamic(s)
            || s.starts_with("resolve:ssm:")
            || regex(cell, pattern).is_none_or(|re| re.is_match(s))
    }
}

/// Where EC2 ids go: (type, path under Properties, format).
const ID_PROPERTIES: &[(&str, &[&str], IdFormat)] = &[
    ("AWS::EC2::Instance", &["ImageId"], IdFormat::Image),
    (
        "AWS::AutoScaling::LaunchConfiguration",
        &["ImageId"],
        IdFormat::Image,
    ),
    (
        "AWS::EC2::LaunchTemplate",
        &["LaunchTemplateData", "ImageId"],
        IdFormat::Image,
    ),
    ("AWS::EC2::Subnet", &["VpcId"], IdFormat::Vpc),
    ("AWS::EC2::SecurityGroup", &["VpcId"], IdFormat::Vpc),
    ("AWS::EC2::RouteTable", &["VpcId"], IdFormat::Vpc),
    ("AWS::EC2::VPCGatewayAttachment", &["VpcId"], IdFormat::Vpc),
    ("AWS::EC2::Instance", &["SubnetId"], IdFormat::Subnet),
    ("AWS::EC2::NatGateway", &["SubnetId"], IdFormat::Subnet),
    (
        "AWS::EC2::SubnetRouteTableAssociation",
        &["SubnetId"],
        IdFormat::Subnet,
    ),
    (
        "AWS::EC2::SecurityGroupIngress",
        &["GroupId"],
        IdFormat::SecurityGroup,
    ),
    (
        "AWS::EC2::SecurityGroupEgress",
        &["GroupId"],
        IdFormat::SecurityGroup,
    ),
];

/// Parameter types whose default must have an id format.
const ID_PARAMETERS: &[(&str, IdFormat)] = &[
    ("AWS::EC2::Image::Id", IdFormat::Image),
    ("AWS::EC2::VPC::Id", IdFormat::Vpc),
    ("AWS::EC2::Subnet::Id", IdFormat::Subnet),
    ("AWS::EC2::SecurityGroup::Id", IdFormat::SecurityGroup),
];

pub(crate) fn ids(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let bad = |s: &str, f: IdFormat| format!("`{s}` is not {}", f.describe());
    for (kind, keys, format) in ID_PROPERTIES {
        for (id, p, base) in resources_of(scope.template, kind) {
            let first = keys.first().and_then(|k| p.get(*k));
            let v = keys
                .iter()
                .skip(1)
                .fold(first, |v, k| v.and_then(|x| x.get(k)));
            if let Some(Value::String(s)) = v
                && !format.fits(s)
            {
                out.push(id, format!("{base}/{}", keys.join("/")), bad(s, *format));
            }
        }
    }
    for (name, p) in &scope.template.parameters {
        let format = ID_PARAMETERS
            .iter()
            .find(|(k, _)| *k == p.kind)
            .map(|(_, f)| *f);
        if let Some(format) = format
            && let Some(Value::String(s)) = &p.default
            && !format.fits(s)
        {
            out.push(name, format!("Parameters/{name}/Default"), bad(s, format));
        }
    }
}

/// A CloudFront alternate domain name: lowercase labels of letters, digits
/// and hyphens (not at either end), a wildcard only as the whole leftmost
/// label, a top-level domain of at least two characters (CloudFront
/// Developer Guide, "Requirements for using alternate domain names").
fn is_alias(s: &str) -> bool {
    let labels: Vec<&str> = s.strip_prefix("*.").unwrap_or(s).split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    labels.len() >= 2 && labels.iter().all(label_ok) && labels.last().is_some_and(|t| t.len() >= 2)
}

pub(crate) fn cloudfront_aliases(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in resources_of(scope.template, "AWS::CloudFront::Distribution") {
        let aliases = p
            .get("DistributionConfig")
            .and_then(|c| c.get("Aliases"))
            .and_then(Value::as_list);
        for (i, alias) in aliases.into_iter().flatten().enumerate() {
            if let Value::String(s) = alias
                && !is_dynamic(s)
                && !is_alias(s)
            {
                out.push(
                    id,
                    format!("{base}/DistributionConfig/Aliases/{i}"),
                    format!("`{s}` is not a domain name CloudFront accepts: lowercase letters, digits and hyphens, labels separated by dots, `*` only as the whole first label"),
                );
            }
        }
    }
}

pub(crate) fn route53(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in resources_of(scope.template, "AWS::Route53::RecordSet") {
        record_set(p, &base, &mut |path, message| out.push(id, path, message));
    }
    for (id, p, base) in resources_of(scope.template, "AWS::Route53::RecordSetGroup") {
        let sets = p.get("RecordSets").and_then(Value::as_list);
        for (i, set) in sets.into_iter().flatten().enumerate() {
            if let Value::Map(m) = set {
                let path = format!("{base}/RecordSets/{i}");
                record_set(m, &path, &mut |path, message| out.push(id, path, message));
            }
        }
    }
}

fn record_set(m: &Map, base: &str, report: &mut dyn FnMut(String, String)) {
    let Some(kind) = m.get("Type").and_then(Value::as_str) else {
        return;
    };
    let path = format!("{base}/ResourceRecords");
    let lists: Vec<(String, &[Value])> = match m.get("ResourceRecords") {
        Some(Value::List(items)) => vec![(path, items.as_slice())],
        Some(Value::Fn(f)) => match f.as_ref() {
            Intrinsic::If(a) => [(1, &a.then), (2, &a.otherwise)]
                .into_iter()
                .filter_map(|(n, v)| v.as_list().map(|l| (format!("{path}/Fn::If/{n}"), l)))
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    for (path, items) in lists {
        if kind == "CNAME" && items.len() > 1 {
            report(
                path.clone(),
                format!("a CNAME record has one value, not {}", items.len()),
            );
        }
        for (i, item) in items.iter().enumerate() {
            if let Value::String(s) = item
                && !is_dynamic(s)
                && let Err(why) = record_value(kind, s)
            {
                report(
                    format!("{path}/{i}"),
                    format!("`{s}` is not a valid {kind} value: {why}"),
                );
            }
        }
    }
}

/// Checks one literal record value against its type's format.
fn record_value(kind: &str, s: &str) -> Result<(), &'static str> {
    static TXT: OnceLock<Option<Regex>> = OnceLock::new();
    static MX: OnceLock<Option<Regex>> = OnceLock::new();
    static CAA: OnceLock<Option<Regex>> = OnceLock::new();
    let fits = |cell: &'static OnceLock<Option<Regex>>, p: &str| {
        regex(cell, p).is_none_or(|re| re.is_match(s))
    };
    let ok = match kind {
        "A" => s.parse::<Ipv4Addr>().is_ok(),
        "AAAA" => s.parse::<Ipv6Addr>().is_ok(),
        "TXT" | "SPF" => fits(&TXT, r#"^("[^"]{1,255}" *)*"[^"]{1,255}"$"#),
        "MX" => {
            fits(&MX, r"^\d{1,5}\s+\S+$")
                && s.split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u16>().ok())
                    .is_some()
        }
        "CAA" => fits(
            &CAA,
            r#"^(0|128)\s+(issue|issuewild|issuemail|iodef)\s+".+"$"#,
        ),
        "CNAME" => !s.trim().is_empty() && !s.contains(char::is_whitespace),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        "A" => "expected an IPv4 address",
        "AAAA" => "expected an IPv6 address",
        "TXT" | "SPF" => "expected double-quoted strings of 1 to 255 characters",
        "MX" => "expected a priority (0-65535) and a mail server name",
        "CAA" => {
            "expected flags (0 or 128), a tag (issue, issuewild, issuemail, iodef) and a quoted value"
        }
        _ => "expected one domain name",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert!(record_value("A", "10.0.0.1").is_ok());
        assert!(record_value("A", "256.10.1.256").is_err());
        assert!(record_value("A", "127.0.0.1 ").is_err());
        assert!(record_value("AAAA", "::1").is_ok());
        assert!(record_value("AAAA", "1111::3333:4444:5555::7777:8888").is_err());
        assert!(record_value("TXT", "\"v=spf1 -all\"").is_ok());
        assert!(record_value("TXT", "test2").is_err());
        assert!(record_value("MX", "10 mx.example.com").is_ok());
        assert!(record_value("MX", "65536 mx2.example.com").is_err());
        assert!(record_value("CAA", "0 issue \"amazon.com\"").is_ok());
        assert!(record_value("CAA", "1 issue \"amazon.com\"").is_err());
        assert!(is_alias("www.example.com") && is_alias("*.example.com"));
        for bad in [
            "email.*.example.com",
            "WWW.EXAMPLE.COM",
            "-example.com",
            "example.c",
            "www.example.com ",
        ] {
            assert!(!is_alias(bad), "{bad}");
        }
        assert!(IdFormat::Image.fits("ami-0123456789abcdef0"));
        assert!(IdFormat::Image.fits("{{resolve:ssm:/aws/service/ami}}"));
        assert!(!IdFormat::Image.fits("ami-123456"));
        assert!(IdFormat::Vpc.fits("vpc-0123ABCD"));
        assert!(!IdFormat::Vpc.fits("vpc-123456"));
    }
}
