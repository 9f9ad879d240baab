//! Renders `templates/` (tera) into the bootstrap serve tree: per-role install scripts, systemd units,
//! runtime configuration, the ip-detect script and a sha256 manifest. Same input, same bytes.
