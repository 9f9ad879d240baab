//! Marathon's `fetch`: each URI downloaded (http, https) or copied (file) into the sandbox before
//! the task starts, unpacked when asked (`.tar`, `.tar.gz`/`.tgz`, `.zip`, never outside the
//! sandbox), made executable when asked, and kept in the agent's cache by URI when asked. Each is
//! bounded in size and time; the first failure fails the task, naming the URI and why.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use strato_proto::FetchUri;
use tokio::io::AsyncWriteExt;

/// The most one URI may bring (Mesos's fetcher has no default limit; a runaway download must not
/// fill the agent's disk).
pub const MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The longest one URI may take.
pub const MAX_TIME: Duration = Duration::from_secs(600);

/// Fetches every URI into `sandbox`; the error is the task's failure message.
pub async fn fetch_all(
    uris: &[FetchUri],
    sandbox: &Path,
    cache_dir: &Path,
    http: &reqwest::Client,
) -> Result<(), String> {
    for fetch in uris {
        let one = fetch_one(fetch, sandbox, cache_dir, http);
        match tokio::time::timeout(MAX_TIME, one).await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return Err(format!("Failed to fetch '{}': {why}", fetch.uri)),
            Err(_) => {
                return Err(format!(
                    "Failed to fetch '{}': took longer than {} s",
                    fetch.uri,
                    MAX_TIME.as_secs()
                ))
            }
        }
    }
    Ok(())
}

/// The last path segment of the URI, without query or fragment.
fn file_name(uri: &str) -> Option<String> {
    let path = uri.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty() && name != "." && name != "..").then(|| name.to_string())
}

/// `relative` inside `sandbox`, or `None` when it would leave it.
fn inside(sandbox: &Path, relative: &str) -> Option<PathBuf> {
    let path = Path::new(relative);
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        .then(|| sandbox.join(path))
}

async fn fetch_one(
    fetch: &FetchUri,
    sandbox: &Path,
    cache_dir: &Path,
    http: &reqwest::Client,
) -> Result<(), String> {
    let name = file_name(&fetch.uri).ok_or("the URI names no file")?;
    let target = match &fetch.dest_path {
        Some(dest) => inside(sandbox, dest).ok_or("destPath leaves the sandbox")?,
        None => sandbox.join(&name),
    };
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| format!("cannot make {}: {e}", parent.display()))?;
    }
    // Kept by URI, with the checksum of what was downloaded beside it: a cached copy that no
    // longer matches it (a damaged disk, a hand edit) is fetched again rather than served.
    let cached = cache_dir.join(hex(&Sha256::digest(fetch.uri.as_bytes())));
    let checksum = cached.with_extension("sha256");
    if fetch.cache && cache_intact(&cached, &checksum).await {
        tokio::fs::copy(&cached, &target)
            .await
            .map_err(|e| format!("cannot copy from the agent's cache: {e}"))?;
    } else {
        download(&fetch.uri, &target, http).await?;
        if fetch.cache {
            tokio::fs::create_dir_all(cache_dir)
                .await
                .map_err(|e| format!("cannot make the cache: {e}"))?;
            let digest = file_digest(&target)
                .await
                .map_err(|e| format!("cannot fill the cache: {e}"))?;
            // Into the cache atomically: a half-written copy is never served.
            let partial = cached.with_extension("partial");
            tokio::fs::copy(&target, &partial)
                .await
                .and(tokio::fs::rename(&partial, &cached).await)
                .and(tokio::fs::write(&checksum, digest).await)
                .map_err(|e| format!("cannot fill the cache: {e}"))?;
        }
    }
    let lower = name.to_ascii_lowercase();
    let archive = [".tar", ".tar.gz", ".tgz", ".zip"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    if fetch.extract && archive {
        let into = target.parent().unwrap_or(sandbox).to_path_buf();
        let (file, lower) = (target.clone(), lower.clone());
        tokio::task::spawn_blocking(move || extract(&file, &lower, &into))
            .await
            .map_err(|e| e.to_string())??;
    } else if fetch.executable {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
            .await
            .map_err(|e| format!("cannot make it executable: {e}"))?;
    }
    Ok(())
}

/// The cached file is there and still has the checksum written when it was cached.
async fn cache_intact(cached: &Path, checksum: &Path) -> bool {
    let Ok(want) = tokio::fs::read_to_string(checksum).await else {
        return false;
    };
    matches!(file_digest(cached).await, Ok(have) if have == want.trim())
}

/// SHA-256 of a file's content, in hex, read in chunks off the async threads.
async fn file_digest(path: &Path) -> std::io::Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        Ok(hex(&hasher.finalize()))
    })
    .await
    .map_err(std::io::Error::other)?
}

async fn download(uri: &str, target: &Path, http: &reqwest::Client) -> Result<(), String> {
    if let Some(path) = uri.strip_prefix("file://") {
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| format!("{path}: {e}"))?
            .len();
        if size > MAX_BYTES {
            return Err(format!("{size} bytes, more than the {MAX_BYTES} allowed"));
        }
        tokio::fs::copy(path, target)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        return Ok(());
    }
    if !(uri.starts_with("http://") || uri.starts_with("https://")) {
        return Err("only http, https and file URIs can be fetched".into());
    }
    let response = http
        .get(uri)
        .send()
        .await
        .map_err(|e| crate::executor::error_chain(&e))?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    if response.content_length().is_some_and(|n| n > MAX_BYTES) {
        return Err(format!("larger than the {MAX_BYTES} bytes allowed"));
    }
    let mut file = tokio::fs::File::create(target)
        .await
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    let mut written: u64 = 0;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| crate::executor::error_chain(&e))?;
        written += chunk.len() as u64;
        if written > MAX_BYTES {
            return Err(format!("larger than the {MAX_BYTES} bytes allowed"));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    file.flush().await.map_err(|e| e.to_string())
}

/// Unpacks `file` into `into`; entries that would land outside it are refused.
fn extract(file: &Path, lower: &str, into: &Path) -> Result<(), String> {
    let opened = std::fs::File::open(file).map_err(|e| e.to_string())?;
    if lower.ends_with(".zip") {
        let mut archive = zip::ZipArchive::new(opened).map_err(|e| format!("not a zip: {e}"))?;
        // `extract` keeps every entry inside `into` (entries with `..` or absolute names fail).
        return archive
            .extract(into)
            .map_err(|e| format!("cannot unpack: {e}"));
    }
    let reader: Box<dyn Read> = if lower.ends_with(".tar") {
        Box::new(opened)
    } else {
        Box::new(flate2::read::GzDecoder::new(opened))
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(|e| format!("not a tar: {e}"))? {
        let mut entry = entry.map_err(|e| format!("cannot read the archive: {e}"))?;
        // `unpack_in` refuses entries that would escape `into` (returns false).
        let kept = entry
            .unpack_in(into)
            .map_err(|e| format!("cannot unpack: {e}"))?;
        if !kept {
            let name = entry
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Err(format!(
                "the archive entry '{name}' would leave the sandbox"
            ));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cached_copy_that_lost_its_checksum_is_fetched_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("app.sh");
        std::fs::write(&source, "echo one\n").expect("source");
        let (sandbox, cache) = (dir.path().join("sandbox"), dir.path().join("cache"));
        std::fs::create_dir_all(&sandbox).expect("sandbox");
        let fetch = FetchUri {
            uri: format!("file://{}", source.display()),
            extract: false,
            executable: false,
            cache: true,
            dest_path: None,
        };
        let http = strato_tls::client();
        fetch_one(&fetch, &sandbox, &cache, &http)
            .await
            .expect("first fetch");
        // The source changes: the cache still serves what it kept, checked.
        std::fs::write(&source, "echo two\n").expect("source");
        fetch_one(&fetch, &sandbox, &cache, &http)
            .await
            .expect("cached");
        let fetched = std::fs::read_to_string(sandbox.join("app.sh")).expect("read");
        assert_eq!(fetched, "echo one\n");
        // The cached copy is damaged: it no longer matches its checksum and is fetched again.
        let key = hex(&Sha256::digest(fetch.uri.as_bytes()));
        std::fs::write(cache.join(&key), "echo tampered\n").expect("damage");
        fetch_one(&fetch, &sandbox, &cache, &http)
            .await
            .expect("refetch");
        let fetched = std::fs::read_to_string(sandbox.join("app.sh")).expect("read");
        assert_eq!(fetched, "echo two\n");
    }

    #[test]
    fn names_and_destinations_stay_in_the_sandbox() {
        assert_eq!(
            file_name("http://x/a/app.tgz?sig=1").as_deref(),
            Some("app.tgz")
        );
        assert_eq!(file_name("http://x/"), None);
        let sandbox = Path::new("/s");
        assert_eq!(
            inside(sandbox, "bin/run"),
            Some(PathBuf::from("/s/bin/run"))
        );
        assert_eq!(inside(sandbox, "../etc/passwd"), None);
        assert_eq!(inside(sandbox, "/etc/passwd"), None);
    }

    #[test]
    fn a_tar_entry_that_climbs_out_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let archive = dir.path().join("evil.tar");
        let mut builder = tar::Builder::new(std::fs::File::create(&archive).expect("file"));
        let mut header = tar::Header::new_gnu();
        let data = b"owned";
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        // Written raw: tar's own setters refuse `..`.
        let name = b"../escaped";
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_cksum();
        builder.append(&header, &data[..]).expect("append");
        builder.finish().expect("finish");
        let into = dir.path().join("sandbox");
        std::fs::create_dir_all(&into).expect("sandbox");
        let result = extract(&archive, "evil.tar", &into);
        assert!(result.is_err(), "{result:?}");
        assert!(!dir.path().join("escaped").exists());
    }

    #[test]
    fn a_zip_is_unpacked_in_place() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tmp");
        let archive = dir.path().join("app.zip");
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&archive).expect("file"));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        writer.start_file("bin/run.sh", options).expect("entry");
        writer.write_all(b"echo hi\n").expect("write");
        writer.finish().expect("finish");
        let into = dir.path().join("sandbox");
        std::fs::create_dir_all(&into).expect("sandbox");
        extract(&archive, "app.zip", &into).expect("unpacked");
        assert_eq!(
            std::fs::read_to_string(into.join("bin/run.sh")).expect("file"),
            "echo hi\n"
        );
    }
}
