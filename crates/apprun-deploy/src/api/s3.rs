//! Amazon S3 (REST-XML), the four object operations apprun needs: staging
//! templates (PutObject, GetObject) and emptying a bucket before its stack
//! is deleted (ListObjectVersions, DeleteObjects). Buckets are addressed as
//! the SDK does: by host name (`bucket.s3.region.amazonaws.com`) on AWS, by
//! path on a configured endpoint (moto, MinIO and LocalStack serve buckets
//! by path) and for names that cannot be a host name label.

use aws_smithy_types::base64;

use super::endpoint::dns_suffix;
use super::xml::Element;
use super::{Api, ApiError, RestRequest, encode_segment, services};

/// Where a bucket's requests go: the endpoint and the path before the key.
fn bucket_base(api: &Api, bucket: &str) -> (String, String) {
    let region = api.region();
    match api.configured_endpoint(&services::S3) {
        Some(url) => (
            url.trim_end_matches('/').to_owned(),
            format!("/{}", encode_segment(bucket)),
        ),
        None if host_label(bucket) => (
            format!("https://{bucket}.s3.{region}.{}", dns_suffix(region)),
            String::new(),
        ),
        None => (
            format!("https://s3.{region}.{}", dns_suffix(region)),
            format!("/{}", encode_segment(bucket)),
        ),
    }
}

/// Whether a bucket name can be the first label of a host name (lower
/// case letters, digits and hyphens; dots would break the TLS wildcard).
fn host_label(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

/// An object key as a path: each segment encoded, the slashes kept.
fn key_path(prefix: &str, key: &str) -> String {
    let segments: Vec<String> = key.split('/').map(encode_segment).collect();
    format!("{prefix}/{}", segments.join("/"))
}

/// The path of the bucket itself.
fn bucket_path(prefix: &str) -> String {
    if prefix.is_empty() {
        "/".to_owned()
    } else {
        prefix.to_owned()
    }
}

async fn send(
    api: &Api,
    bucket: &str,
    operation: &'static str,
    request: impl FnOnce(&str) -> RestRequest,
) -> Result<super::RestResponse, ApiError> {
    let (url, prefix) = bucket_base(api, bucket);
    let region = api.region().to_owned();
    api.rest_at(&services::S3, operation, &url, region, request(&prefix))
        .await
}

/// GetObject: the object's bytes; `None` when there is no such key.
pub async fn get_object(api: &Api, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
    match send(api, bucket, "GetObject", |p| {
        RestRequest::get(key_path(p, key))
    })
    .await
    {
        Ok(response) => Ok(Some(response.body)),
        Err(e) if e.code() == Some("NoSuchKey") || e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

/// PutObject.
pub async fn put_object(api: &Api, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), ApiError> {
    send(api, bucket, "PutObject", |p| {
        let mut request = RestRequest::new("PUT", key_path(p, key));
        request.body = body;
        request
    })
    .await
    .map(|_| ())
}

/// One version of an object, or a delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub key: String,
    /// `null` for objects written while versioning was off.
    pub version_id: Option<String>,
}

/// ListObjectVersions (the first page: up to 1,000 versions and delete
/// markers).
pub async fn list_object_versions(api: &Api, bucket: &str) -> Result<Vec<ObjectVersion>, ApiError> {
    let response = send(api, bucket, "ListObjectVersions", |p| {
        RestRequest::get(bucket_path(p)).query("versions", "")
    })
    .await?;
    let root = response.xml()?;
    Ok(root
        .children
        .iter()
        .filter(|c| c.name == "Version" || c.name == "DeleteMarker")
        .filter_map(|c| {
            Some(ObjectVersion {
                key: c.child_text("Key")?.to_owned(),
                version_id: c.child_text("VersionId").map(str::to_owned),
            })
        })
        .collect())
}

/// DeleteObjects, quietly (only failures are listed in the answer). S3
/// requires a checksum of the body for this operation: SHA-256.
pub async fn delete_objects(
    api: &Api,
    bucket: &str,
    objects: &[ObjectVersion],
) -> Result<(), ApiError> {
    let document = Element::new("Delete")
        .attr("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")
        .with_child(Element::leaf("Quiet", "true"))
        .with_children(objects.iter().map(|o| {
            let mut object = Element::new("Object").with_child(Element::leaf("Key", &o.key));
            if let Some(version) = &o.version_id {
                object = object.with_child(Element::leaf("VersionId", version));
            }
            object
        }));
    let body = document.to_document().into_bytes();
    let checksum = base64::encode(ring::digest::digest(&ring::digest::SHA256, &body).as_ref());
    let response = send(api, bucket, "DeleteObjects", |p| {
        let mut request = RestRequest::new("POST", bucket_path(p))
            .query("delete", "")
            .header("content-type", "application/xml")
            .header("x-amz-sdk-checksum-algorithm", "SHA256")
            .header("x-amz-checksum-sha256", checksum);
        request.body = body;
        request
    })
    .await?;
    // A 200 can still list objects that were not deleted.
    let root = response.xml()?;
    match root.child("Error") {
        Some(error) => Err(ApiError::Service(super::ServiceError {
            status: response.status,
            code: error.child_text("Code").unwrap_or_default().to_owned(),
            message: format!(
                "{} ({})",
                error.child_text("Message").unwrap_or_default(),
                error.child_text("Key").unwrap_or_default()
            ),
            request_id: None,
        })),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_that_are_host_labels_go_in_the_host() {
        assert!(host_label("apprunner-nuxt3-dev-temporary"));
        assert!(!host_label("my.bucket"));
        assert!(!host_label("Upper"));
        assert!(!host_label("-x-"));
        assert!(!host_label("ab"));
    }

    #[test]
    fn keys_keep_their_slashes_and_encode_the_rest() {
        assert_eq!(
            key_path("", "apprun/service web.yaml"),
            "/apprun/service%20web.yaml"
        );
        assert_eq!(key_path("/bucket", "a/b"), "/bucket/a/b");
        assert_eq!(bucket_path(""), "/");
        assert_eq!(bucket_path("/bucket"), "/bucket");
    }
}
