//! Private registries: the credentials a Docker `config.json` on the agent holds for an image's
//! registry (`auths.<registry>.auth`, base64 of `user:password`, as `docker login` writes it).
//! Where: `$DOCKER_CONFIG/config.json`, else `/root/.docker/config.json` (the agent runs as root).
//! Credential helpers (`credsStore`, `credHelpers`) and Marathon's `pullConfig` secrets are not
//! read. The file is read at each pull, so a `docker login` on the agent applies at once.

use std::path::{Path, PathBuf};

use base64::Engine;
use bollard::auth::DockerCredentials;

/// Docker Hub's key in `auths` (images without a registry host go there).
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// The `config.json` the agent reads.
pub fn config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => Path::new(&dir).join("config.json"),
        None => PathBuf::from("/root/.docker/config.json"),
    }
}

/// The registry an image reference names: its first part when that has a `.` or `:` or is
/// `localhost` (Docker's rule), else Docker Hub.
pub fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => DOCKER_HUB,
    }
}

/// Credentials for `image` from the config file at `path`; `None` when it has none (or cannot be
/// read: the pull then goes without, and the registry's refusal names the problem).
pub fn credentials(path: &Path, image: &str) -> Option<DockerCredentials> {
    let text = std::fs::read_to_string(path).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    let registry = registry_of(image);
    let auths = config.get("auths")?.as_object()?;
    // `docker login host:port` writes the bare host; older clients wrote a URL.
    let entry = auths.iter().find_map(|(key, value)| {
        let bare = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .trim_end_matches("/v1")
            .trim_end_matches("/v2");
        (key == registry || bare == registry).then_some(value)
    })?;
    let encoded = entry.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some(DockerCredentials {
        username: Some(username.to_string()),
        password: Some(password.to_string()),
        serveraddress: Some(registry.to_string()),
        ..DockerCredentials::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_name_their_registry() {
        assert_eq!(
            registry_of("127.0.0.1:5000/strato/busybox:1"),
            "127.0.0.1:5000"
        );
        assert_eq!(
            registry_of("registry.example.com/app"),
            "registry.example.com"
        );
        assert_eq!(registry_of("localhost/app:2"), "localhost");
        assert_eq!(registry_of("library/nginx"), DOCKER_HUB);
        assert_eq!(registry_of("nginx:1.27"), DOCKER_HUB);
    }

    #[test]
    fn credentials_come_from_the_matching_auths_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("strato:s3cret:with-colon");
        std::fs::write(
            &path,
            serde_json::json!({"auths": {
                "127.0.0.1:5000": {"auth": auth},
                "https://index.docker.io/v1/": {"auth": "bm90OnVzZWQ="},
            }})
            .to_string(),
        )
        .expect("write");
        let found = credentials(&path, "127.0.0.1:5000/strato/busybox:1").expect("credentials");
        assert_eq!(found.username.as_deref(), Some("strato"));
        assert_eq!(found.password.as_deref(), Some("s3cret:with-colon"));
        assert_eq!(found.serveraddress.as_deref(), Some("127.0.0.1:5000"));
        assert!(credentials(&path, "other.example.com/x").is_none());
        assert!(credentials(&dir.path().join("missing.json"), "nginx").is_none());
    }
}
