//! Route 53: GetHostedZone, ListResourceRecordSets and
//! ChangeResourceRecordSets (REST-XML, API version 2013-04-01, paths and
//! element names as in the Route 53 API reference). Only what apprun sends
//! or reads is modelled.

use crate::api::xml::Element;
use crate::api::{Api, ApiError, RestRequest, encode_segment, services};

/// The namespace of every Route 53 request document.
pub const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
const VERSION: &str = "/2013-04-01";

/// A hosted zone id as the API's paths want it: `Z…`, without the
/// `/hostedzone/` prefix some answers (and users) write.
pub fn zone_id(id: &str) -> &str {
    id.trim().trim_start_matches("/hostedzone/")
}

/// What GetHostedZone says of a zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostedZone {
    pub id: String,
    /// With the final dot (`example.com.`).
    pub name: String,
    pub private: bool,
}

/// One record set of a zone (simple routing; what apprun reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceRecordSet {
    pub name: String,
    pub record_type: String,
    pub ttl: Option<u32>,
    pub values: Vec<String>,
    pub alias: Option<AliasTarget>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasTarget {
    pub hosted_zone_id: String,
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

/// One page of ListResourceRecordSets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordSetsPage {
    pub record_sets: Vec<ResourceRecordSet>,
    pub is_truncated: bool,
    pub next_record_name: Option<String>,
    pub next_record_type: Option<String>,
}

/// `CREATE`, `DELETE` or `UPSERT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: &'static str,
    pub record_set: ResourceRecordSet,
}

/// What ChangeResourceRecordSets answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeInfo {
    /// `/change/C…`.
    pub id: String,
    /// `PENDING` or `INSYNC`.
    pub status: String,
}

/// GetHostedZone.
pub async fn get_hosted_zone(api: &Api, id: &str) -> Result<HostedZone, ApiError> {
    let path = format!("{VERSION}/hostedzone/{}", encode_segment(zone_id(id)));
    let answer = api
        .rest(&services::ROUTE_53, "GetHostedZone", RestRequest::get(path))
        .await?
        .xml()?;
    let zone = answer
        .child("HostedZone")
        .ok_or_else(|| missing("GetHostedZone", "HostedZone"))?;
    Ok(HostedZone {
        id: text(zone, "Id"),
        name: text(zone, "Name"),
        private: zone
            .child("Config")
            .is_some_and(|c| text(c, "PrivateZone") == "true"),
    })
}

/// ListResourceRecordSets: the record sets from (`name`, `record_type`)
/// on, in Route 53's order, at most `max_items` of them.
pub async fn list_resource_record_sets(
    api: &Api,
    zone: &str,
    name: Option<&str>,
    record_type: Option<&str>,
    max_items: u32,
) -> Result<RecordSetsPage, ApiError> {
    let path = format!(
        "{VERSION}/hostedzone/{}/rrset",
        encode_segment(zone_id(zone))
    );
    let mut request = RestRequest::get(path);
    if let Some(name) = name {
        request = request.query("name", name);
        // Route 53 accepts a type only together with a name.
        if let Some(t) = record_type {
            request = request.query("type", t);
        }
    }
    request = request.query("maxitems", max_items.to_string());
    let answer = api
        .rest(&services::ROUTE_53, "ListResourceRecordSets", request)
        .await?
        .xml()?;
    let sets = answer
        .child("ResourceRecordSets")
        .map(|s| {
            s.children_named("ResourceRecordSet")
                .map(record_set)
                .collect()
        })
        .unwrap_or_default();
    let optional = |name: &str| Some(text(&answer, name)).filter(|t| !t.is_empty());
    Ok(RecordSetsPage {
        record_sets: sets,
        is_truncated: text(&answer, "IsTruncated") == "true",
        next_record_name: optional("NextRecordName"),
        next_record_type: optional("NextRecordType"),
    })
}

/// ChangeResourceRecordSets: the changes in one batch (Route 53 applies all
/// of them or none).
pub async fn change_resource_record_sets(
    api: &Api,
    zone: &str,
    comment: &str,
    changes: &[Change],
) -> Result<ChangeInfo, ApiError> {
    let path = format!(
        "{VERSION}/hostedzone/{}/rrset/",
        encode_segment(zone_id(zone))
    );
    let request = RestRequest::new("POST", path).xml_body(&change_document(comment, changes));
    let answer = api
        .rest(&services::ROUTE_53, "ChangeResourceRecordSets", request)
        .await?
        .xml()?;
    let info = answer
        .child("ChangeInfo")
        .ok_or_else(|| missing("ChangeResourceRecordSets", "ChangeInfo"))?;
    Ok(ChangeInfo {
        id: text(info, "Id"),
        status: text(info, "Status"),
    })
}

/// The request document of ChangeResourceRecordSets.
pub fn change_document(comment: &str, changes: &[Change]) -> Element {
    let changes = changes.iter().map(|c| {
        Element::new("Change")
            .with_child(Element::leaf("Action", c.action))
            .with_child(record_set_element(&c.record_set))
    });
    Element::new("ChangeResourceRecordSetsRequest")
        .attr("xmlns", XMLNS)
        .with_child(
            Element::new("ChangeBatch")
                .with_child(Element::leaf("Comment", comment))
                .with_child(Element::new("Changes").with_children(changes)),
        )
}

fn record_set_element(set: &ResourceRecordSet) -> Element {
    let mut e = Element::new("ResourceRecordSet")
        .with_child(Element::leaf("Name", &set.name))
        .with_child(Element::leaf("Type", &set.record_type));
    if let Some(alias) = &set.alias {
        return e.with_child(
            Element::new("AliasTarget")
                .with_child(Element::leaf("HostedZoneId", &alias.hosted_zone_id))
                .with_child(Element::leaf("DNSName", &alias.dns_name))
                .with_child(Element::leaf(
                    "EvaluateTargetHealth",
                    if alias.evaluate_target_health {
                        "true"
                    } else {
                        "false"
                    },
                )),
        );
    }
    if let Some(ttl) = set.ttl {
        e = e.with_child(Element::leaf("TTL", ttl.to_string()));
    }
    e.with_child(
        Element::new("ResourceRecords").with_children(
            set.values
                .iter()
                .map(|v| Element::new("ResourceRecord").with_child(Element::leaf("Value", v))),
        ),
    )
}

fn record_set(e: &Element) -> ResourceRecordSet {
    ResourceRecordSet {
        name: text(e, "Name"),
        record_type: text(e, "Type"),
        ttl: e.child_text("TTL").and_then(|t| t.trim().parse().ok()),
        values: e
            .child("ResourceRecords")
            .map(|r| {
                r.children_named("ResourceRecord")
                    .map(|rr| text(rr, "Value"))
                    .collect()
            })
            .unwrap_or_default(),
        alias: e.child("AliasTarget").map(|a| AliasTarget {
            hosted_zone_id: text(a, "HostedZoneId"),
            dns_name: text(a, "DNSName"),
            evaluate_target_health: text(a, "EvaluateTargetHealth") == "true",
        }),
    }
}

/// A child's text, trimmed (answers may be indented); empty when absent.
fn text(e: &Element, name: &str) -> String {
    e.child_text(name).unwrap_or_default().trim().to_owned()
}

fn missing(operation: &str, element: &str) -> ApiError {
    ApiError::Response {
        message: format!("{operation} answered without <{element}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_lose_their_path_prefix() {
        assert_eq!(zone_id("/hostedzone/Z0123456789ABC"), "Z0123456789ABC");
        assert_eq!(zone_id("Z0123456789ABC"), "Z0123456789ABC");
    }

    #[test]
    fn a_change_batch_is_written_as_the_api_reference_shows() {
        let doc = change_document(
            "apprun",
            &[
                Change {
                    action: "UPSERT",
                    record_set: ResourceRecordSet {
                        name: "app.example.com.".into(),
                        record_type: "CNAME".into(),
                        ttl: Some(300),
                        values: vec!["abc.eu-west-1.awsapprunner.com.".into()],
                        alias: None,
                    },
                },
                Change {
                    action: "UPSERT",
                    record_set: ResourceRecordSet {
                        name: "example.com.".into(),
                        record_type: "A".into(),
                        ttl: None,
                        values: vec![],
                        alias: Some(AliasTarget {
                            hosted_zone_id: "Z087551914Z2PCAU0QHMW".into(),
                            dns_name: "abc.eu-west-1.awsapprunner.com.".into(),
                            evaluate_target_health: false,
                        }),
                    },
                },
            ],
        );
        assert_eq!(
            doc.to_document(),
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?>"#,
                r#"<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">"#,
                "<ChangeBatch><Comment>apprun</Comment><Changes>",
                "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>app.example.com.</Name><Type>CNAME</Type><TTL>300</TTL>",
                "<ResourceRecords><ResourceRecord><Value>abc.eu-west-1.awsapprunner.com.</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>",
                "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>example.com.</Name><Type>A</Type>",
                "<AliasTarget><HostedZoneId>Z087551914Z2PCAU0QHMW</HostedZoneId><DNSName>abc.eu-west-1.awsapprunner.com.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>",
                "</ResourceRecordSet></Change>",
                "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
            )
        );
    }

    #[test]
    fn listed_record_sets_are_read_with_aliases_and_values() {
        // A hand-written wire response in the shape of the API reference.
        let answer = crate::api::xml::parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
  <ResourceRecordSets>
    <ResourceRecordSet>
      <Name>example.com.</Name>
      <Type>A</Type>
      <AliasTarget>
        <HostedZoneId>Z087551914Z2PCAU0QHMW</HostedZoneId>
        <DNSName>abc.eu-west-1.awsapprunner.com.</DNSName>
        <EvaluateTargetHealth>false</EvaluateTargetHealth>
      </AliasTarget>
    </ResourceRecordSet>
    <ResourceRecordSet>
      <Name>app.example.com.</Name>
      <Type>CNAME</Type>
      <TTL>60</TTL>
      <ResourceRecords><ResourceRecord><Value>old.example.net</Value></ResourceRecord></ResourceRecords>
    </ResourceRecordSet>
  </ResourceRecordSets>
  <IsTruncated>false</IsTruncated>
  <MaxItems>2</MaxItems>
</ListResourceRecordSetsResponse>"#,
        )
        .unwrap();
        let sets: Vec<ResourceRecordSet> = answer
            .child("ResourceRecordSets")
            .unwrap()
            .children_named("ResourceRecordSet")
            .map(record_set)
            .collect();
        assert_eq!(sets.len(), 2);
        assert_eq!(
            sets[0].alias.as_ref().map(|a| a.hosted_zone_id.as_str()),
            Some("Z087551914Z2PCAU0QHMW")
        );
        assert_eq!(sets[1].ttl, Some(60));
        assert_eq!(sets[1].values, vec!["old.example.net".to_owned()]);
    }
}
