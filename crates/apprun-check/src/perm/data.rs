//! The vendored IAM reference data: the Service Authorization Reference
//! (one file per service, parsed the first time a check needs that
//! service), the AWS managed policies apprun's stacks attach, and the
//! hand-kept table of `iam:PassedToService` values and service-linked roles.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

include!(concat!(env!("OUT_DIR"), "/iam.rs"));

/// One action of the reference.
#[derive(Debug, Deserialize)]
pub(crate) struct Action {
    /// Resource types, with whether each is required.
    #[serde(rename = "r")]
    pub resources: Vec<(String, bool)>,
    /// Condition keys the action supports.
    #[serde(rename = "c")]
    pub conditions: Vec<String>,
    /// Actions IAM also requires when this one is called.
    #[serde(rename = "d")]
    pub dependent: Vec<String>,
}

impl Action {
    /// The resource types a call must be authorized on, every one of them.
    pub(crate) fn required_types(&self) -> Vec<&str> {
        self.resources
            .iter()
            .filter(|(_, required)| *required)
            .map(|(t, _)| t.as_str())
            .collect()
    }
}

/// One service of the reference. The vendored file has one action per
/// line; only the actions a check asks for are parsed (the EC2 file alone
/// is 180 kB, which would take longer to parse than the whole proof).
pub(crate) struct Service {
    /// (lowercased name, name, JSON text, parsed) sorted by lowercased name.
    actions: Vec<(String, &'static str, &'static str, OnceLock<Option<Action>>)>,
    /// Resource type name → ARN format (`arn:${Partition}:...`).
    pub resources: BTreeMap<String, String>,
}

impl Service {
    fn parse(text: &'static str) -> Option<Service> {
        let (head, tail) = text.split_once("\n},\"resources\":{")?;
        let mut actions: Vec<(String, &'static str, &'static str, OnceLock<Option<Action>>)> = head
            .lines()
            .skip(1)
            .filter_map(|l| {
                let l = l.strip_suffix(',').unwrap_or(l);
                let (name, json) = l.strip_prefix('"')?.split_once("\":")?;
                Some((name.to_ascii_lowercase(), name, json, OnceLock::new()))
            })
            .collect();
        actions.sort_by(|a, b| a.0.cmp(&b.0));
        let resources =
            serde_json::from_str(&format!("{{{}", tail.trim_end().strip_suffix('}')?)).ok()?;
        Some(Service { actions, resources })
    }

    /// The action called `name`, IAM-style case-insensitively.
    pub(crate) fn action(&self, name: &str) -> Option<(&'static str, &Action)> {
        let key = name.to_ascii_lowercase();
        let i = self
            .actions
            .binary_search_by(|a| a.0.as_str().cmp(&key))
            .ok()?;
        let (_, name, json, cell) = &self.actions[i];
        cell.get_or_init(|| serde_json::from_str(json).ok())
            .as_ref()
            .map(|a| (*name, a))
    }

    /// Every action name of the service.
    #[cfg(test)]
    pub(crate) fn action_names(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.1)
    }
}

/// (prefix, vendored text, parsed on first use) of every service.
type Services = Vec<(&'static str, &'static str, OnceLock<Option<Service>>)>;

fn services() -> &'static Services {
    static S: OnceLock<Services> = OnceLock::new();
    S.get_or_init(|| {
        SAR.iter()
            .map(|(prefix, text)| (*prefix, *text, OnceLock::new()))
            .collect()
    })
}

/// The reference of one service (`apprunner`, `iam`...), when vendored.
pub(crate) fn service(prefix: &str) -> Option<&'static Service> {
    let all = services();
    let i = all.binary_search_by(|(p, _, _)| (*p).cmp(prefix)).ok()?;
    let (_, text, cell) = &all[i];
    cell.get_or_init(|| Service::parse(text)).as_ref()
}

/// An action of the reference from `prefix:Name`.
pub(crate) fn action(full: &str) -> Option<(&'static str, &'static str, &'static Action)> {
    let (prefix, name) = full.split_once(':')?;
    let prefix = prefix.to_ascii_lowercase();
    let all = services();
    let i = all
        .binary_search_by(|(p, _, _)| (*p).cmp(prefix.as_str()))
        .ok()?;
    let (name, a) = service(&prefix)?.action(name)?;
    Some((all[i].0, name, a))
}

/// The document of a vendored AWS managed policy, from its ARN's path
/// after `policy/` (`service-role/AmazonECSTaskExecutionRolePolicy`).
/// Parsed once, into the template model the proof evaluates.
pub(crate) fn managed_policy(path: &str) -> Option<&'static apprun_template::Value> {
    static P: OnceLock<BTreeMap<&'static str, apprun_template::Value>> = OnceLock::new();
    P.get_or_init(|| {
        MANAGED
            .iter()
            .filter_map(|(name, text)| Some((*name, apprun_template::parse_json_value(text).ok()?)))
            .collect()
    })
    .get(path)
}

#[derive(Debug, Default, Deserialize)]
struct ServiceData {
    passed_to_service: BTreeMap<String, serde_json::Value>,
    service_linked_roles: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    created_names: BTreeMap<String, serde_json::Value>,
}

fn service_data() -> &'static ServiceData {
    static D: OnceLock<ServiceData> = OnceLock::new();
    D.get_or_init(|| serde_json::from_str(SERVICE_DATA).unwrap_or_default())
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The `iam:PassedToService` values an action passes roles with, when the
/// table lists it (every value must be allowed).
pub(crate) fn passed_to_service(action: &str) -> Option<Vec<String>> {
    let d = service_data();
    d.passed_to_service
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(action))
        .map(|(_, v)| strings(v))
}

/// The service-linked roles (`service name/role name`) the handlers of a
/// resource type create.
pub(crate) fn service_linked_roles(kind: &str) -> Vec<String> {
    service_data()
        .service_linked_roles
        .get(kind)
        .map(strings)
        .unwrap_or_default()
}

/// The documented names of what a resource type's handlers create:
/// (`service:resource type`, name patterns with `${Property}` and `*`).
pub(crate) fn created_names(kind: &str) -> Vec<(String, Vec<String>)> {
    service_data()
        .created_names
        .get(kind)
        .and_then(|v| v.as_object())
        .map(|o| o.iter().map(|(k, v)| (k.clone(), strings(v))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_file_parses() {
        for (prefix, _) in SAR {
            let s = service(prefix).unwrap_or_else(|| panic!("{prefix} does not parse"));
            assert!(s.action_names().count() > 0, "{prefix} has no actions");
            for name in s.action_names() {
                assert!(s.action(name).is_some(), "{prefix}:{name} does not parse");
            }
        }
        for (name, _) in MANAGED {
            let doc = managed_policy(name).unwrap_or_else(|| panic!("{name} does not parse"));
            assert!(doc.get("Statement").is_some(), "{name}");
        }
        assert!(!service_data().passed_to_service.is_empty());
    }

    #[test]
    fn actions_are_found_case_insensitively_with_their_resource_types() {
        let (prefix, name, a) = action("APPRUNNER:associatewebacl").unwrap();
        assert_eq!((prefix, name), ("apprunner", "AssociateWebAcl"));
        assert_eq!(a.required_types(), ["service", "webacl"]);
        let (_, _, a) = action("ecs:CreateExpressGatewayService").unwrap();
        assert!(a.dependent.iter().any(|d| d == "iam:PassRole"));
        assert!(action("apprunner:NoSuchCall").is_none());
    }
}
