//! Every rule `apprun check` runs on a template beyond the schemas, declared
//! once: its id, severity, what it catches, what it assumes, the cfn-lint
//! rules it corresponds to, and the function that checks it. Policy rules
//! (`APR-*`) judge what matters for this architecture; value rules
//! (`E-VALUE-*`) catch values CloudFormation or the service would reject.

use apprun_template::{Template, Value};

use crate::Context;
use crate::finding::{Finding, Severity};
use crate::sink::Findings;
use crate::{policy, values};

/// One built-in rule.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    /// The severity of its findings (a rule may report a lower one where its
    /// `assumes` says so, never a higher one).
    pub severity: Severity,
    /// What it catches, in one line.
    pub title: &'static str,
    /// What it takes for granted (defaults, data sources); empty when nothing.
    pub assumes: &'static str,
    /// The cfn-lint rules that catch the same thing, if any.
    pub cfn_lint: &'static [&'static str],
    pub(crate) run: Run,
}

/// Where a rule is evaluated.
#[derive(Debug)]
pub(crate) enum Run {
    /// On each template, by this function.
    Template(CheckFn),
    /// By another part of the check (the permission proof, the reachability
    /// proof, the CLI's config checks): declared here for its metadata.
    Elsewhere,
}

/// What a rule sees: one template, where it came from, and the env's policy.
pub(crate) struct Scope<'a> {
    pub template: &'a Template,
    pub ctx: &'a Context,
    /// The file as given (nested stacks are read relative to it).
    pub file: &'a str,
}

pub(crate) type CheckFn = fn(&Scope<'_>, &mut Sink<'_>);

/// Collects one rule's findings with the rule's id and severity.
pub(crate) struct Sink<'a> {
    rule: &'static Rule,
    out: &'a mut Findings,
}

impl Sink<'_> {
    pub(crate) fn push(&mut self, logical_id: &str, path: String, message: String) {
        self.push_as(self.rule.severity, logical_id, path, message);
    }

    /// A finding below the rule's severity (an implicit default, say).
    pub(crate) fn push_as(
        &mut self,
        severity: Severity,
        logical_id: &str,
        path: String,
        message: String,
    ) {
        let severity = severity.max(self.rule.severity);
        self.out.push(Finding::new(
            self.rule.id,
            severity,
            logical_id,
            path,
            message,
        ));
    }
}

/// A rule id no rule declares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule id `{0}`; the built-in rules are listed by `apprun_check::RULES`")]
pub struct UnknownRule(pub String);

/// The rule with this id.
pub fn rule(id: &str) -> Result<&'static Rule, UnknownRule> {
    RULES
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| UnknownRule(id.to_owned()))
}

/// The severity of a rule evaluated elsewhere (the proofs). Their ids are
/// constants checked against this table by a test (`every_rule_id_in_the_source_is_declared`).
pub(crate) fn severity(id: &str) -> Severity {
    rule(id).map_or(Severity::Error, |r| r.severity)
}

/// Runs every template rule on one template.
pub(crate) fn check(scope: &Scope<'_>, out: &mut Findings) {
    for rule in RULES {
        if let Run::Template(f) = rule.run {
            f(scope, &mut Sink { rule, out });
        }
    }
}

/// A CloudFormation boolean: `true` or the string "true" (any case).
pub(crate) fn is_true(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true)))
        || matches!(v, Some(Value::String(s)) if s.eq_ignore_ascii_case("true"))
}

const fn policy(
    id: &'static str,
    severity: Severity,
    title: &'static str,
    assumes: &'static str,
    run: Run,
) -> Rule {
    Rule {
        id,
        severity,
        title,
        assumes,
        cfn_lint: &[],
        run,
    }
}

const fn value(
    id: &'static str,
    title: &'static str,
    assumes: &'static str,
    cfn_lint: &'static [&'static str],
    f: CheckFn,
) -> Rule {
    Rule {
        id,
        severity: Severity::Error,
        title,
        assumes,
        cfn_lint,
        run: Run::Template(f),
    }
}

use Run::{Elsewhere, Template as T};
use Severity::{Error, Warning};

/// Every built-in rule, sorted by id.
pub static RULES: &[Rule] = &[
    policy(
        "APR-BUILD-001",
        Warning,
        "a service's pipeline prebuild runs a program the CodeBuild image does not provide",
        "the CodeBuild standard image's tool list",
        Elsewhere,
    ),
    policy(
        "APR-ECR-001",
        Warning,
        "ECR repository without scan on push",
        "",
        T(policy::ecr_scan),
    ),
    policy(
        "APR-ECR-002",
        Warning,
        "ECR repository with mutable tags (a deployed tag can silently change)",
        "a missing ImageTagMutability means MUTABLE (the ECR default)",
        T(policy::ecr_mutable),
    ),
    policy(
        "APR-IAM-001",
        Error,
        "iam:PassRole (or iam:*) allowed on every role (Resource \"*\"): lets the holder hand any role to any service",
        "",
        T(policy::iam_pass_role),
    ),
    policy(
        "APR-IAM-002",
        Error,
        "a wildcard action (\"*\" or \"service:*\") allowed on every resource (Resource \"*\")",
        "",
        T(policy::iam_wildcard),
    ),
    policy(
        "APR-IAM-003",
        Error,
        "an AWS managed AdministratorAccess, PowerUserAccess or *FullAccess policy attached to a role",
        "",
        T(policy::iam_managed),
    ),
    policy(
        "APR-NET-001",
        Error,
        "App Runner or ECS Express service publicly reachable in an env listed in [policy] private_envs",
        "App Runner services are public unless IsPubliclyAccessible is false; ECS Express subnets named *PublicSubnet* are public",
        T(policy::net_public),
    ),
    policy(
        "APR-NET-010",
        Error,
        "a compute placement (App Runner VPC connector, ECS Express tasks, CodeBuild in a VPC) has no network path on tcp 443 to what it must reach; the message names the hop that blocks it",
        "",
        Elsewhere,
    ),
    policy(
        "APR-NET-011",
        Warning,
        "a network path cannot be proven: it depends on something the templates and the AWS docs leave open (ECS Express's public IP or own security groups, resources outside the checked set, network ACLs)",
        "",
        Elsewhere,
    ),
    policy(
        "APR-PERM-001",
        Error,
        "an actor (CloudFormation with a role, CodePipeline, CodeBuild, EventBridge, App Runner, ECS) cannot make an IAM call it needs",
        "",
        Elsewhere,
    ),
    policy(
        "APR-PERM-002",
        Warning,
        "cannot prove an actor may make a call: it depends on a value the templates do not determine",
        "",
        Elsewhere,
    ),
    policy(
        "APR-PERM-003",
        Error,
        "a role does not trust the service principal of an actor that uses it",
        "",
        Elsewhere,
    ),
    policy(
        "APR-S3-001",
        Error,
        "S3 bucket whose public access is not fully blocked",
        "a bucket without PublicAccessBlockConfiguration gets S3's default for new buckets (all four blocks on, since April 2023): a warning; a configuration that leaves a block off is an error",
        T(policy::s3_public),
    ),
    policy(
        "APR-S3-002",
        Warning,
        "S3 bucket without a default encryption configuration",
        "S3 encrypts new objects with SSE-S3 by default since January 2023; the rule asks to say so (or choose SSE-KMS)",
        T(policy::s3_encryption),
    ),
    policy(
        "APR-SECRET-001",
        Error,
        "a secret-looking name (*PASSWORD*, *SECRET*, *TOKEN*, *KEY*) in plain environment variables",
        "",
        T(policy::secrets),
    ),
    policy(
        "APR-SG-001",
        Error,
        "security-group ingress from 0.0.0.0/0 or ::/0 on a port other than 80 or 443",
        "",
        T(policy::sg_open),
    ),
    value(
        "E-VALUE-BACKUP-LIFECYCLE",
        "AWS Backup lifecycle deleting a recovery point less than 90 days after it moves to cold storage",
        "",
        &["E3504"],
        values::backup::lifecycle,
    ),
    value(
        "E-VALUE-CLOUDFRONT-ALIAS",
        "CloudFront alternate domain name that is not a lowercase domain name (a wildcard only as the whole first label)",
        "",
        &["E3013"],
        values::formats::cloudfront_aliases,
    ),
    value(
        "E-VALUE-DYNAMODB-KEYS",
        "DynamoDB table whose AttributeDefinitions are not exactly the attributes of its key schema and indexes",
        "",
        &["E3039"],
        values::dynamodb::keys,
    ),
    value(
        "E-VALUE-ELASTICACHE-FAILOVER",
        "ElastiCache replication group with automatic failover but fewer than 2 cache clusters",
        "",
        &["E3026"],
        values::elasticache::failover,
    ),
    value(
        "E-VALUE-FORMAT",
        "an EC2 id (AMI, VPC, subnet, security group) in a property or parameter default that does not have the format EC2 gives it (prefix and 8 or 17 characters)",
        "",
        &["E1150", "E1151", "E1152"],
        values::formats::ids,
    ),
    value(
        "E-VALUE-IAM-POLICY",
        "IAM policy document structure: Version, Statement, Effect, one of Action/NotAction, one of Resource/NotResource, no Principal in identity policies, ARN-shaped resources",
        "the IAM JSON policy element reference",
        &["E3510", "E3512", "E3513", "E3514"],
        values::iam::documents,
    ),
    value(
        "E-VALUE-IMPORT",
        "Fn::ImportValue given something other than a string (another ImportValue, a list, a GetAtt) or used in Conditions",
        "",
        &["E1016", "E8003"],
        values::refs::import_value,
    ),
    value(
        "E-VALUE-LAMBDA-RUNTIME",
        "Lambda runtime whose creation AWS blocks (error) or that is deprecated (warning)",
        "AWS's runtime deprecation dates, vendored from cfn-lint (src/values/data); compared with today's date",
        &["E2533", "E2531", "W2531"],
        values::lambda::runtime,
    ),
    value(
        "E-VALUE-LAMBDA-ZIPFILE",
        "Lambda function with inline code (Code.ZipFile) but no Runtime or Handler",
        "",
        &["E3678"],
        values::lambda::zipfile,
    ),
    value(
        "E-VALUE-LIST-DUPLICATE",
        "duplicate items in a list the resource schema declares uniqueItems",
        "",
        &["E3037"],
        values::unique::items,
    ),
    value(
        "E-VALUE-LOGICAL-ID",
        "logical id that is not alphanumeric (A-Za-z0-9) or longer than 255 characters",
        "",
        &["E3001", "E3006"],
        values::names::logical_ids,
    ),
    value(
        "E-VALUE-MODULE",
        "a registry module (::MODULE) given Tags or the reserved Metadata key AWS::CloudFormation::Module",
        "",
        &["E5001"],
        values::modules::modules,
    ),
    value(
        "E-VALUE-NAME-CLASH",
        "a resource and a parameter with the same logical id",
        "",
        &["E3007"],
        values::names::clashes,
    ),
    value(
        "E-VALUE-NESTED-STACK",
        "nested stack parameters: one the child template does not declare, or one it requires (no Default) not given",
        "only a TemplateURL that is a local file next to the template can be read; others are skipped",
        &["E3043"],
        values::nested::parameters,
    ),
    value(
        "E-VALUE-PARAMETER-DEFAULT",
        "a parameter Default outside its own AllowedValues, AllowedPattern, MinLength or MaxLength",
        "list parameters pass when the whole default or each of its items passes; AllowedPattern is matched from the start",
        &["E2015"],
        values::parameters::defaults,
    ),
    value(
        "E-VALUE-RDS-CLASS",
        "RDS DB instance class the engine does not offer in any region",
        "AWS's per-region instance class offerings, vendored from cfn-lint (src/values/data) as their union: a class missing only in the stack's region is not caught",
        &["E3025"],
        values::rds::instance_class,
    ),
    value(
        "E-VALUE-ROLE-PATH",
        "Ref of an IAM role with a Path other than / where a role is expected: the name resolves without the path",
        "",
        &["E3050"],
        values::refs::role_path,
    ),
    value(
        "E-VALUE-ROUTE53",
        "Route 53 record values that do not fit the record type (A: IPv4, AAAA: IPv6, TXT/SPF: quoted strings of at most 255 characters, MX: priority and host, CAA: flags tag \"value\"), or more than one value for an alias or CNAME",
        "the record formats of the Route 53 Developer Guide",
        &["E3023"],
        values::formats::route53,
    ),
    value(
        "E-VALUE-SUB-NEEDED",
        "a `${Name}` naming a parameter, resource or pseudo parameter in a plain string: it is only replaced inside Fn::Sub",
        "",
        &["E1029"],
        values::refs::sub_needed,
    ),
    value(
        "E-VALUE-SUBNET-ASSOCIATION",
        "a subnet associated with a route table twice (unconditionally)",
        "",
        &["E3022"],
        values::network::subnet_associations,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sorted() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn an_unknown_id_is_an_error() {
        assert_eq!(
            rule(&format!("APR-{}", "NOPE-001")).unwrap_err(),
            UnknownRule(format!("APR-{}", "NOPE-001"))
        );
        assert_eq!(rule("APR-S3-001").map(|r| r.severity), Ok(Severity::Error));
    }

    /// The proofs name their rules by string: each must be declared here.
    #[test]
    fn every_rule_id_in_the_source_is_declared() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let re = regex::Regex::new(r#""((?:APR|E-VALUE)-[A-Z0-9-]*[0-9A-Z])""#).unwrap();
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for c in re.captures_iter(&text) {
                        assert!(rule(&c[1]).is_ok(), "{}: {}", path.display(), &c[1]);
                    }
                }
            }
        }
    }
}
