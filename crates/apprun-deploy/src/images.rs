//! Whether an image tag exists where a service stack will pull it from,
//! checked before the first write: CloudFormation would otherwise create
//! the other stacks, then fail (and roll back) the service at a tag that
//! was never pushed.

use std::collections::BTreeMap;
use std::time::Duration;

use apprun_blueprint::{Stack, StackKind};
use http_body_util::{BodyExt, Empty};

use crate::api::ecr;
use crate::clients::Clients;
use crate::engine::DeployOptions;
use crate::error::DeployError;

/// Where the images of an env's services live.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// The env's ECR repositories, by service name.
    Ecr(BTreeMap<String, String>),
    /// A registry's HTTP API (`apprun release --registry`): the base URL
    /// (`http://127.0.0.1:5000`) and the repository path in it.
    Registry {
        base_url: String,
        repository: String,
    },
}

impl Default for ImageSource {
    fn default() -> Self {
        ImageSource::Ecr(BTreeMap::new())
    }
}

impl ImageSource {
    /// The repository a service's image is read from, as shown to people.
    fn repository_of(&self, service: &str) -> Option<String> {
        match self {
            ImageSource::Ecr(repos) => repos.get(service).cloned(),
            ImageSource::Registry {
                base_url,
                repository,
            } => Some(format!(
                "{}/{repository}",
                base_url
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
            )),
        }
    }
}

/// What the registry said about a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lookup {
    Present,
    /// Absent; the text adds what else is known (empty when nothing).
    Absent(String),
}

/// The manifest types a registry may hold for a tag (single images and
/// multi-platform indexes, OCI and Docker).
const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// Refuses (before any write) when `tag` is not in the repository of every
/// service stack among `services`.
pub(crate) async fn require_tag(
    clients: &Clients,
    opts: &DeployOptions,
    services: &[&Stack],
    tag: &str,
) -> Result<(), DeployError> {
    // A blueprint has one stack per service.
    let names = services.iter().filter_map(|s| match &s.kind {
        StackKind::Service { name, .. } => Some(name.as_str()),
        _ => None,
    });
    for service in names {
        let repository = opts.images.repository_of(service).ok_or_else(|| {
            DeployError::Internal(format!(
                "the deploy options name no image repository for service `{service}`"
            ))
        })?;
        let found = match &opts.images {
            ImageSource::Ecr(_) => ecr_lookup(clients, &repository, tag).await?,
            ImageSource::Registry {
                base_url,
                repository: path,
            } => registry_lookup(base_url, path, tag).await?,
        };
        if let Lookup::Absent(detail) = found {
            return Err(DeployError::ImageTagMissing {
                tag: tag.to_owned(),
                repository,
                detail,
                env: opts.env.clone(),
            });
        }
    }
    Ok(())
}

/// ECR DescribeImages for one tag. A repository that does not exist yet
/// (a first deploy) cannot hold the tag either.
async fn ecr_lookup(clients: &Clients, repository: &str, tag: &str) -> Result<Lookup, DeployError> {
    let request = ecr::DescribeImages {
        repository_name: repository.to_owned(),
        image_ids: vec![ecr::ImageIdentifier {
            image_tag: tag.to_owned(),
        }],
    };
    match clients.api.call(&request).await {
        Ok(out) if !out.image_details.is_empty() => Ok(Lookup::Present),
        Ok(_) => Ok(Lookup::Absent(String::new())),
        Err(e) => match e.code() {
            Some("ImageNotFoundException") => Ok(Lookup::Absent(String::new())),
            Some("RepositoryNotFoundException") => Ok(Lookup::Absent(
                " (the repository does not exist yet: its stack has not been deployed)".into(),
            )),
            _ => Err(e.into_deploy("DescribeImages", None)),
        },
    }
}

/// `HEAD /v2/<repository>/manifests/<tag>` on a registry's HTTP API.
async fn registry_lookup(base_url: &str, path: &str, tag: &str) -> Result<Lookup, DeployError> {
    let url = format!(
        "{}/v2/{path}/manifests/{tag}",
        base_url.trim_end_matches('/')
    );
    let failed = |message: String| DeployError::Aws {
        operation: "registry manifest lookup",
        stack: None,
        message,
    };
    let client = crate::release::plain_client().map_err(failed)?;
    let request = hyper::Request::head(&url)
        .header(hyper::header::ACCEPT, MANIFEST_TYPES)
        .body(Empty::new())
        .map_err(|e| failed(format!("{url}: {e}")))?;
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .map_err(|_| failed(format!("{url} did not answer within 30 s")))?
        .map_err(|e| failed(format!("{url}: {}", crate::error::error_message(&e))))?;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    match status {
        200 => Ok(Lookup::Present),
        404 => Ok(Lookup::Absent(String::new())),
        other => Err(failed(format!(
            "{url} answered HTTP {other}, so apprun cannot tell whether the tag exists"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A registry on loopback that knows one manifest (`web:abc1234`),
    /// answers 401 for `private/*`, and keeps the requests it saw.
    async fn registry() -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let status = if request.starts_with("HEAD /v2/web/manifests/abc1234 ") {
                        "200 OK"
                    } else if request.starts_with("HEAD /v2/private/") {
                        "401 Unauthorized"
                    } else {
                        "404 Not Found"
                    };
                    log.lock().unwrap().push(request);
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        (format!("http://{addr}"), seen)
    }

    #[tokio::test]
    async fn registry_manifests_are_looked_up_with_head_and_the_manifest_types() {
        let (base, seen) = registry().await;
        assert_eq!(
            registry_lookup(&base, "web", "abc1234").await.unwrap(),
            Lookup::Present
        );
        assert_eq!(
            registry_lookup(&base, "web", "0000000").await.unwrap(),
            Lookup::Absent(String::new())
        );
        let err = registry_lookup(&base, "private/web", "abc1234")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("HTTP 401") && err.contains("cannot tell whether the tag exists"),
            "{err}"
        );
        let first = seen.lock().unwrap()[0].to_ascii_lowercase();
        assert!(
            first.contains("accept: application/vnd.oci.image.manifest.v1+json")
                && first.contains("application/vnd.docker.distribution.manifest.v2+json"),
            "{first}"
        );
    }

    #[test]
    fn repositories_are_named_as_people_write_them() {
        let ecr = ImageSource::Ecr([("web".to_owned(), "app-dev".to_owned())].into());
        assert_eq!(ecr.repository_of("web").as_deref(), Some("app-dev"));
        assert_eq!(ecr.repository_of("api"), None);
        let registry = ImageSource::Registry {
            base_url: "http://127.0.0.1:5000".into(),
            repository: "app-dev".into(),
        };
        assert_eq!(
            registry.repository_of("web").as_deref(),
            Some("127.0.0.1:5000/app-dev")
        );
    }
}
