//! What the checked templates determine: values with their intrinsics
//! resolved (Ref, GetAtt, Sub, Join, ImportValue through the exports of the
//! checked set, pseudo parameters), resources' names and ARNs built from the
//! reference's ARN formats, and the roles with their policies.

use std::collections::BTreeMap;

use apprun_template::{Intrinsic, Map, Resource, Value};

use super::data;
use super::eval::{Condition, Statement, UNKNOWN, UNRESOLVED};
use crate::{Context, Input};

/// A resource of the checked set: (input index, logical id).
pub(crate) type Rid = (usize, String);

/// The checked templates and what they determine.
pub(crate) struct World<'a> {
    pub inputs: &'a [Input<'a>],
    pub partition: String,
    pub region: String,
    pub account: String,
    exports: BTreeMap<&'a str, (usize, &'a Value)>,
    /// Every IAM role of the checked set with its ARN, resolved once:
    /// roles given as ARN text are matched against it.
    role_arns: Vec<(String, Rid)>,
}

/// Types whose `Ref` returns the ARN rather than the name.
const REF_IS_ARN: &[&str] = &[
    "AWS::AppRunner::Service",
    "AWS::AppRunner::VpcConnector",
    "AWS::AppRunner::VpcIngressConnection",
    "AWS::ECS::ExpressGatewayService",
    "AWS::ECS::TaskDefinition",
    "AWS::IAM::ManagedPolicy",
    "AWS::SNS::Topic",
];

/// CloudFormation type → (service prefix, reference resource type), where
/// the generic rule (lowercased names) does not find it.
const TYPE_OVERRIDES: &[(&str, &str, &str)] = &[
    ("AWS::ECS::ExpressGatewayService", "ecs", "service"),
    ("AWS::Events::Rule", "events", "rule-on-default-event-bus"),
    ("AWS::WAFv2::WebACL", "wafv2", "webacl"),
    (
        "AWS::CodeStarConnections::Connection",
        "codestar-connections",
        "Connection",
    ),
];

impl<'a> World<'a> {
    pub(crate) fn new(inputs: &'a [Input<'a>], ctx: &Context) -> Self {
        let exports = crate::cross::exported_values(inputs.iter().map(|i| i.template));
        let region = ctx.region.clone().unwrap_or_else(|| "{Region}".to_owned());
        let partition = match region.as_str() {
            r if r.starts_with("cn-") => "aws-cn",
            r if r.starts_with("us-gov-") => "aws-us-gov",
            _ => "aws",
        }
        .to_owned();
        let mut world = World {
            inputs,
            partition,
            region,
            account: ctx
                .account
                .clone()
                .unwrap_or_else(|| "{AccountId}".to_owned()),
            exports,
            role_arns: Vec::new(),
        };
        world.role_arns = world
            .roles()
            .into_iter()
            .map(|rid| (world.arn(&rid, 0), rid))
            .collect();
        world
    }

    pub(crate) fn resource(&self, rid: &Rid) -> Option<&'a Resource> {
        self.inputs.get(rid.0)?.template.resources.get(&rid.1)
    }

    /// The input whose stack has this name.
    pub(crate) fn stack_named(&self, name: &str) -> Option<usize> {
        self.inputs
            .iter()
            .position(|i| i.stack.as_deref() == Some(name))
    }

    /// Resolves a value to text; unknown parts become [`UNKNOWN`].
    pub(crate) fn text(&self, at: usize, v: &Value) -> String {
        self.resolve(at, v, 0)
    }

    /// Like [`World::text`], for values in a policy: what cannot be
    /// resolved becomes [`UNRESOLVED`] (it matches nothing).
    pub(crate) fn policy_text(&self, at: usize, v: &Value) -> String {
        self.resolve(at, v, 0)
            .replace(UNKNOWN, &UNRESOLVED.to_string())
    }

    fn resolve(&self, at: usize, v: &Value, depth: usize) -> String {
        if depth > 16 {
            return UNKNOWN.to_string();
        }
        match v {
            Value::String(s) => s.as_str().into(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Fn(f) => self.resolve_fn(at, f, depth + 1),
            _ => UNKNOWN.to_string(),
        }
    }

    fn resolve_fn(&self, at: usize, f: &Intrinsic, depth: usize) -> String {
        match f {
            Intrinsic::Ref(name) => self.reference(at, name, depth),
            Intrinsic::GetAtt {
                resource,
                attribute,
            } => self.attribute(&(at, resource.to_string()), attribute, depth),
            Intrinsic::Sub { template, vars } => self.sub(at, template, vars.as_ref(), depth),
            Intrinsic::Join {
                separator,
                items: Value::List(items),
            } => items
                .iter()
                .map(|i| self.resolve(at, i, depth))
                .collect::<Vec<_>>()
                .join(separator),
            Intrinsic::ImportValue(name) => {
                let name = self.resolve(at, name, depth);
                match self.exports.get(name.as_str()) {
                    Some((i, value)) => self.resolve(*i, value, depth),
                    None => UNKNOWN.to_string(),
                }
            }
            Intrinsic::Select(a) => {
                let (Value::Int(i), Value::List(items)) = (&a.index, &a.list) else {
                    return UNKNOWN.to_string();
                };
                usize::try_from(*i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .map_or_else(|| UNKNOWN.to_string(), |v| self.resolve(at, v, depth))
            }
            _ => UNKNOWN.to_string(),
        }
    }

    fn sub(&self, at: usize, template: &str, vars: Option<&Map>, depth: usize) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.and_then(|m| m.get(name)) {
                out.push_str(&self.resolve(at, v, depth));
            } else if let Some((r, a)) = name.split_once('.') {
                out.push_str(&self.attribute(&(at, r.to_owned()), a, depth));
            } else {
                out.push_str(&self.reference(at, name, depth));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn reference(&self, at: usize, name: &str, depth: usize) -> String {
        match name {
            "AWS::Region" => return self.region.clone(),
            "AWS::AccountId" => return self.account.clone(),
            "AWS::Partition" => return self.partition.clone(),
            "AWS::URLSuffix" => return "amazonaws.com".into(),
            "AWS::StackName" => {
                return self.inputs[at]
                    .stack
                    .clone()
                    .unwrap_or_else(|| UNKNOWN.to_string());
            }
            _ => {}
        }
        let t = self.inputs[at].template;
        if let Some(p) = t.parameters.get(name) {
            return p
                .default
                .as_ref()
                .map_or_else(|| UNKNOWN.to_string(), |d| self.resolve(at, d, depth));
        }
        let rid = (at, name.to_owned());
        match t.resources.get(name) {
            Some(r) if REF_IS_ARN.contains(&r.kind.as_str()) => self.arn(&rid, depth),
            Some(_) => self
                .name(&rid, depth)
                .unwrap_or_else(|| UNKNOWN.to_string()),
            None => UNKNOWN.to_string(),
        }
    }

    fn attribute(&self, rid: &Rid, attr: &str, depth: usize) -> String {
        let Some(r) = self.resource(rid) else {
            return UNKNOWN.to_string();
        };
        match attr {
            "RepositoryUri" if r.kind == "AWS::ECR::Repository" => {
                let name = self.name(rid, depth).unwrap_or_else(|| UNKNOWN.to_string());
                let suffix = if self.partition == "aws-cn" {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                format!("{}.dkr.ecr.{}.{suffix}/{name}", self.account, self.region)
            }
            a if a == "Arn" || a.ends_with("Arn") => self.arn(rid, depth),
            a if a == "Name" || a.ends_with("Name") => {
                self.name(rid, depth).unwrap_or_else(|| UNKNOWN.to_string())
            }
            _ => UNKNOWN.to_string(),
        }
    }

    /// The physical name a resource is given in its properties.
    pub(crate) fn name(&self, rid: &Rid, depth: usize) -> Option<String> {
        let r = self.resource(rid)?;
        let short = r.kind.rsplit("::").next().unwrap_or_default();
        // `ExpressGatewayService` → `ServiceName`: the last word of the type.
        let last_word_at = short
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_ascii_uppercase())
            .map(|(i, _)| i)
            .unwrap_or(0);
        let candidates = [
            format!("{short}Name"),
            "Name".to_owned(),
            format!("{}Name", &short[last_word_at..]),
        ];
        candidates
            .iter()
            .find_map(|k| r.properties.get(k))
            .map(|v| self.resolve(rid.0, v, depth + 1))
    }

    /// The reference's (service, resource type) of a CloudFormation type.
    pub(crate) fn sar_type(kind: &str) -> Option<(&'static str, String)> {
        if let Some((_, s, t)) = TYPE_OVERRIDES.iter().find(|(k, _, _)| *k == kind) {
            return Some((s, (*t).to_owned()));
        }
        let mut parts = kind.split("::").skip(1);
        let service = parts.next()?.to_ascii_lowercase();
        let short = parts.next()?.to_ascii_lowercase();
        let sar = data::service(&service)?;
        let prefix = data::SAR.iter().map(|(p, _)| *p).find(|p| *p == service)?;
        sar.resources
            .keys()
            .find(|k| k.replace('-', "").eq_ignore_ascii_case(&short))
            .map(|k| (prefix, k.clone()))
    }

    /// A resource's ARN from the reference's format and its properties;
    /// parts the template does not determine (generated ids) are unknown.
    pub(crate) fn arn(&self, rid: &Rid, depth: usize) -> String {
        let Some(r) = self.resource(rid) else {
            return UNKNOWN.to_string();
        };
        let Some((service, rtype)) = Self::sar_type(&r.kind) else {
            return UNKNOWN.to_string();
        };
        let Some(format) = data::service(service).and_then(|s| s.resources.get(&rtype)) else {
            return UNKNOWN.to_string();
        };
        self.fill(format, |var| self.arn_part(rid, r, var, depth))
    }

    /// An ARN format with `${Partition}`, `${Region}`, `${Account}` filled
    /// and every other variable from `part` (unknown when it has none).
    pub(crate) fn fill(&self, format: &str, part: impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        let mut rest = format;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').unwrap_or(after.len());
            let var = &after[..end];
            let value = match var {
                "Partition" => Some(self.partition.clone()),
                "Region" => Some(self.region.clone()),
                "Account" => Some(self.account.clone()),
                _ => part(var),
            };
            out.push_str(&value.unwrap_or_else(|| UNKNOWN.to_string()));
            rest = after.get(end + 1..).unwrap_or_default();
        }
        out.push_str(rest);
        out
    }

    /// An ARN format variable of a `service`/`rtype` ARN as a resource's
    /// properties determine it: all of them for the resource's own type;
    /// for other types of its service only what a property of that exact
    /// name (or ECS's cluster) gives (a deployment of an ECS service names
    /// its cluster and service); nothing for other services.
    pub(crate) fn subject_part(
        &self,
        rid: &Rid,
        service: &str,
        rtype: &str,
        var: &str,
    ) -> Option<String> {
        let r = self.resource(rid)?;
        let (own_service, own_type) = Self::sar_type(&r.kind)?;
        if own_service != service {
            return None;
        }
        if own_type == rtype {
            return self.arn_part(rid, r, var, 0);
        }
        if var == "ClusterName" || r.properties.contains_key(var) {
            return self.arn_part(rid, r, var, 0);
        }
        None
    }

    /// The tags a resource's `Tags` property gives it (Key/Value list).
    pub(crate) fn tags(&self, rid: &Rid) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(r) = self.resource(rid) else {
            return out;
        };
        for t in list(r.properties.get("Tags")) {
            if let (Some(k), Some(v)) = (t.get("Key"), t.get("Value")) {
                out.insert(self.text(rid.0, k), self.text(rid.0, v));
            }
        }
        out
    }

    fn arn_part(&self, rid: &Rid, r: &Resource, var: &str, depth: usize) -> Option<String> {
        let p = &r.properties;
        if var == "Scope" {
            return p
                .get("Scope")
                .map(|s| self.resolve(rid.0, s, depth + 1).to_ascii_lowercase());
        }
        if var == "ClusterName" && r.kind.starts_with("AWS::ECS::") && r.kind != "AWS::ECS::Cluster"
        {
            // A service or task set without a Cluster property runs in the
            // account's `default` cluster; a cluster's own name is its
            // ClusterName (below).
            return Some(
                p.get("Cluster")
                    .map(|c| self.resolve(rid.0, c, depth + 1))
                    .map(|c| c.rsplit('/').next().unwrap_or_default().to_owned())
                    .unwrap_or_else(|| "default".into()),
            );
        }
        if var == "TaskDefinitionFamilyName" && r.kind == "AWS::ECS::TaskDefinition" {
            // Without a Family CloudFormation generates one (unknown here).
            return p.get("Family").map(|f| self.resolve(rid.0, f, depth + 1));
        }
        if let Some(v) = p.get(var) {
            return Some(self.resolve(rid.0, v, depth + 1));
        }
        let base = var.strip_suffix("WithPath").unwrap_or(var);
        if let Some(v) = p.get(base) {
            let name = self.resolve(rid.0, v, depth + 1);
            let path = p
                .get("Path")
                .map(|v| self.resolve(rid.0, v, depth + 1))
                .unwrap_or_else(|| "/".into());
            return Some(format!("{}{name}", path.trim_start_matches('/')));
        }
        if base.ends_with("Name") {
            return self.name(rid, depth);
        }
        None
    }

    /// Follows a value (Ref, GetAtt, ImportValue through an export) to the
    /// resource it names, when that resource is in the checked set.
    pub(crate) fn target(&self, at: usize, v: &Value) -> Option<Rid> {
        self.target_depth(at, v, 0)
    }

    fn target_depth(&self, at: usize, v: &Value, depth: usize) -> Option<Rid> {
        if depth > 8 {
            return None;
        }
        match v.as_fn()? {
            Intrinsic::Ref(name) => self.inputs[at]
                .template
                .resources
                .contains_key(name.as_str())
                .then(|| (at, name.to_string())),
            Intrinsic::GetAtt { resource, .. } => self.inputs[at]
                .template
                .resources
                .contains_key(resource.as_str())
                .then(|| (at, resource.to_string())),
            Intrinsic::ImportValue(name) => {
                let name = self.resolve(at, name, depth);
                let (i, value) = self.exports.get(name.as_str())?;
                self.target_depth(*i, value, depth + 1)
            }
            _ => None,
        }
    }

    /// The role a value (a role ARN) designates: followed through
    /// intrinsics, else matched by its resolved ARN.
    pub(crate) fn role(&self, at: usize, v: &Value) -> Option<Rid> {
        if let Some(rid) = self.target(at, v)
            && self
                .resource(&rid)
                .is_some_and(|r| r.kind == "AWS::IAM::Role")
        {
            return Some(rid);
        }
        let arn = self.text(at, v);
        if arn.contains(UNKNOWN) {
            return None;
        }
        self.role_arns
            .iter()
            .find(|(role_arn, _)| *role_arn == arn)
            .map(|(_, rid)| rid.clone())
    }

    /// Every IAM role of the checked set.
    pub(crate) fn roles(&self) -> Vec<Rid> {
        let mut out = Vec::new();
        for (i, input) in self.inputs.iter().enumerate() {
            for (id, r) in &input.template.resources {
                if r.kind == "AWS::IAM::Role" {
                    out.push((i, id.clone()));
                }
            }
        }
        out
    }

    /// The service principals a role's trust policy lets assume it.
    pub(crate) fn trusted_services(&self, rid: &Rid) -> Vec<String> {
        let mut out = Vec::new();
        let Some(doc) = self
            .resource(rid)
            .and_then(|r| r.properties.get("AssumeRolePolicyDocument"))
        else {
            return out;
        };
        for s in list(doc.get("Statement")) {
            if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue;
            }
            let actions: Vec<String> = list(s.get("Action"))
                .iter()
                .map(|a| self.text(rid.0, a))
                .collect();
            if !actions
                .iter()
                .any(|a| super::eval::glob(a, "sts:AssumeRole", true))
            {
                continue;
            }
            if let Some(p) = s.get("Principal") {
                for svc in list(p.get("Service")) {
                    out.push(self.text(rid.0, svc));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Every statement of every identity-based policy a role holds:
    /// inline policies, AWS::IAM::Policy / ManagedPolicy resources attached
    /// to it, and vendored AWS managed policies. Managed policies that are
    /// neither vendored nor in the checked set are returned by name.
    pub(crate) fn role_policies(&self, rid: &Rid) -> (Vec<Statement>, Vec<String>) {
        let mut statements = Vec::new();
        let mut missing = Vec::new();
        let Some(role) = self.resource(rid) else {
            return (statements, missing);
        };
        let role_name = self.name(rid, 0);
        for p in list(role.properties.get("Policies")) {
            let name = p
                .get("PolicyName")
                .map(|n| self.text(rid.0, n))
                .unwrap_or_default();
            if let Some(doc) = p.get("PolicyDocument") {
                self.statements(
                    rid.0,
                    doc,
                    &format!("{} policy {name}", rid.1),
                    &mut statements,
                );
            }
        }
        for arn in list(role.properties.get("ManagedPolicyArns")) {
            if let Some(target) = self.target(rid.0, arn)
                && let Some(r) = self.resource(&target)
                && r.kind == "AWS::IAM::ManagedPolicy"
            {
                if let Some(doc) = r.properties.get("PolicyDocument") {
                    self.statements(
                        target.0,
                        doc,
                        &format!("{} policy {}", rid.1, target.1),
                        &mut statements,
                    );
                }
                continue;
            }
            let text = self.text(rid.0, arn);
            match text
                .split_once(":iam::aws:policy/")
                .and_then(|(_, path)| data::managed_policy(path).map(|d| (path, d)))
            {
                Some((path, doc)) => {
                    self.statements(
                        rid.0,
                        doc,
                        &format!("{} AWS managed policy {path}", rid.1),
                        &mut statements,
                    );
                }
                None => missing.push(super::eval::show(&text)),
            }
        }
        // Policies that name the role in their Roles list.
        for (i, input) in self.inputs.iter().enumerate() {
            for (id, r) in &input.template.resources {
                if !matches!(
                    r.kind.as_str(),
                    "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy"
                ) {
                    continue;
                }
                let attached = list(r.properties.get("Roles")).iter().any(|v| {
                    self.target(i, v).as_ref() == Some(rid)
                        || (role_name.is_some() && Some(self.text(i, v)) == role_name)
                });
                if attached && let Some(doc) = r.properties.get("PolicyDocument") {
                    self.statements(
                        i,
                        doc,
                        &format!("{id} (attached to {})", rid.1),
                        &mut statements,
                    );
                }
            }
        }
        (statements, missing)
    }

    /// The statements of one policy document, values resolved.
    pub(crate) fn statements(&self, at: usize, doc: &Value, label: &str, out: &mut Vec<Statement>) {
        for (n, s) in list(doc.get("Statement")).iter().enumerate() {
            let texts = |key: &str| -> Option<Vec<String>> {
                s.get(key).map(|v| {
                    list(Some(v))
                        .iter()
                        .map(|x| self.policy_text(at, x))
                        .collect()
                })
            };
            let (not_action, actions) = match (texts("Action"), texts("NotAction")) {
                (Some(a), _) => (false, a),
                (None, Some(a)) => (true, a),
                (None, None) => continue,
            };
            let (not_resource, resources) = match (texts("Resource"), texts("NotResource")) {
                (Some(r), _) => (false, r),
                (None, Some(r)) => (true, r),
                (None, None) => (false, vec!["*".to_owned()]),
            };
            let mut conditions = Vec::new();
            if let Some(Value::Map(ops)) = s.get("Condition") {
                for (op, keys) in ops {
                    if let Value::Map(keys) = keys {
                        for (key, values) in keys {
                            conditions.push(Condition {
                                op: op.as_str().into(),
                                key: key.as_str().into(),
                                values: list(Some(values))
                                    .iter()
                                    .map(|v| self.policy_text(at, v))
                                    .collect(),
                            });
                        }
                    }
                }
            }
            let sid = s
                .get("Sid")
                .and_then(Value::as_str)
                .map_or_else(|| format!("#{}", n + 1), str::to_owned);
            out.push(Statement {
                allow: s.get("Effect").and_then(Value::as_str) == Some("Allow"),
                not_action,
                actions,
                not_resource,
                resources,
                conditions,
                label: format!("{label} statement {sid}"),
            });
        }
    }
}

/// A value as a list: a list's items, or the value itself.
pub(crate) fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::List(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    }
}
