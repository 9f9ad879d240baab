//! Every DC/OS 1.13 `config.yaml` key the import knows, and what it does with each.
//!
//! | DC/OS key | Strato | what happens |
//! |---|---|---|
//! | `cluster_name` | `cluster_name` | mapped; turned into a DNS label (`My Cluster` → `my-cluster`) with a warning |
//! | `bootstrap_url` | `bootstrap` | `http(s)://HOST[:PORT]` → `HOST`; `file:///…` → `local`; anything else refused |
//! | `master_list` | `masters` | mapped (required with `master_discovery: static`; refused if absent) |
//! | `agent_list` | `agents` | mapped |
//! | `public_agent_list` | `public_agents` | mapped |
//! | `resolvers` | `network.resolvers` | mapped (DC/OS default `[8.8.8.8, 8.8.4.4]`) |
//! | `ip_detect_filename` | `network.ip_detect` | the script is copied next to the output as `ip-detect` |
//! | `ssh_user` | `ssh.user` | mapped (DC/OS default `centos`) |
//! | `ssh_port` | `ssh.port` | mapped |
//! | `ssh_key_path` | `ssh.key_path` | mapped, made absolute (DC/OS default `genconf/ssh_key`) |
//! | `ssh_parallelism` | `ssh.parallelism` | mapped |
//! | `process_timeout` | `ssh.command_timeout_seconds` | mapped |
//! | `master_discovery` | – | checked; `static` is what Strato does, `master_http_loadbalancer` warned |
//! | `exhibitor_storage_backend` and its dependants (`exhibitor_zk_hosts`, `exhibitor_zk_path`, `aws_region`, `s3_bucket`, `s3_prefix`, `exhibitor_explicit_keys`, `aws_access_key_id`, `aws_secret_access_key`, `exhibitor_azure_*`, `exhibitor_fs_config_dir`), `exhibitor_address`, `num_masters`, `master_external_loadbalancer` | – | checked as DC/OS does, then warned: Strato's masters keep their own state |
//! | `use_proxy: true` | – | refused: Strato nodes do not use an HTTP proxy yet |
//! | `num_masters` (static), `dcos_version`, `marathon_port`, `custom_auth` | – | error, as in DC/OS: "must be calculated" |
//! | every other DC/OS key in [`OTHER`], Enterprise keys in [`ENTERPRISE`] | – | warned: accepted by DC/OS, not used by Strato |
//! | keys DC/OS does not know | – | warned (DC/OS ignores them silently), with "did you mean" |

/// Keys the import turns into cluster.yaml settings.
pub const MAPPED: &[&str] = &[
    "cluster_name",
    "bootstrap_url",
    "master_list",
    "agent_list",
    "public_agent_list",
    "resolvers",
    "ip_detect_filename",
    "ssh_user",
    "ssh_port",
    "ssh_key_path",
    "ssh_parallelism",
    "process_timeout",
];

/// Keys checked for DC/OS's verdict that have no Strato meaning.
pub const CHECKED: &[&str] = &[
    "master_discovery",
    "exhibitor_storage_backend",
    "num_masters",
    "exhibitor_address",
    "exhibitor_zk_hosts",
    "exhibitor_zk_path",
    "aws_region",
    "s3_bucket",
    "s3_prefix",
    "exhibitor_explicit_keys",
    "aws_access_key_id",
    "aws_secret_access_key",
    "exhibitor_azure_account_name",
    "exhibitor_azure_account_key",
    "exhibitor_azure_prefix",
    "exhibitor_fs_config_dir",
    "master_external_loadbalancer",
    "use_proxy",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "dcos_version",
    "marathon_port",
    "custom_auth",
];

/// Other DC/OS 1.13 open-source keys, plus keys real configs carry that DC/OS ignores
/// (`log_directory`, `ip_detect_path`, `cosmos_config`, `extra_ssh_options`).
pub const OTHER: &[&str] = &[
    "adminrouter_tls_1_0_enabled",
    "adminrouter_tls_1_1_enabled",
    "adminrouter_tls_1_2_enabled",
    "adminrouter_tls_cipher_suite",
    "adminrouter_x_frame_options",
    "auth_cookie_secure_flag",
    "check_time",
    "cluster_docker_credentials",
    "cluster_docker_credentials_dcos_owned",
    "cluster_docker_credentials_enabled",
    "cluster_docker_credentials_write_to_etc",
    "cluster_docker_registry_url",
    "cosmos_config",
    "custom_checks",
    "dcos_dns_push_ops_timeout",
    "dcos_l4lb_enable_ipset",
    "dcos_l4lb_enable_ipv6",
    "dcos_l4lb_max_named_ip",
    "dcos_l4lb_max_named_ip6",
    "dcos_l4lb_min_named_ip",
    "dcos_l4lb_min_named_ip6",
    "dcos_net_cluster_identity",
    "dcos_net_rest_enable",
    "dcos_net_watchdog",
    "dcos_overlay_config_attempts",
    "dcos_overlay_enable",
    "dcos_overlay_mtu",
    "dcos_overlay_network",
    "dcos_overlay_network_default_name",
    "dcos_remove_dockercfg_enable",
    "dcos_ucr_default_bridge_subnet",
    "diagnostics_bundles_dir",
    "dns_bind_ip_blacklist",
    "dns_bind_ip_reserved",
    "dns_forward_zones",
    "dns_search",
    "docker_remove_delay",
    "docker_stop_timeout",
    "enable_docker_gc",
    "enable_gpu_isolation",
    "enable_ipv6",
    "enable_lb",
    "enable_mesos_input_plugin",
    "enable_mesos_ipv6_discovery",
    "exhibitor_admin_password",
    "extra_ssh_options",
    "gc_delay",
    "gpus_are_scarce",
    "ip6_detect_filename",
    "ip_detect_path",
    "ip_detect_public_filename",
    "log_directory",
    "log_offers",
    "marathon_gpu_scheduling_behavior",
    "marathon_java_args",
    "master_dns_bindall",
    "mesos_agent_work_dir",
    "mesos_cni_root_dir_persist",
    "mesos_container_log_sink",
    "mesos_dns_ip_sources",
    "mesos_dns_set_truncate_bit",
    "mesos_log_retention_mb",
    "mesos_master_work_dir",
    "mesos_max_completed_tasks_per_framework",
    "mesos_recovery_timeout",
    "mesos_seccomp_enabled",
    "mesos_seccomp_profile_name",
    "metronome_gpu_scheduling_behavior",
    "mesos_dns_resolvers_timeout",
    "oauth_auth_host",
    "oauth_auth_redirector",
    "oauth_available",
    "oauth_client_id",
    "oauth_enabled",
    "oauth_issuer_url",
    "platform",
    "rexray_config",
    "rexray_config_preset",
    "superuser_service_account_public_key",
    "superuser_service_account_uid",
    "telemetry_enabled",
    "ui_banner",
    "ui_banner_background_color",
    "ui_banner_dismissible",
    "ui_banner_footer_content",
    "ui_banner_foreground_color",
    "ui_banner_header_content",
    "ui_banner_header_title",
    "ui_banner_image_path",
];

/// DC/OS Enterprise keys (open-source DC/OS ignores them, and so does Strato).
pub const ENTERPRISE: &[&str] = &[
    "security",
    "superuser_username",
    "superuser_password_hash",
    "customer_key",
    "license_key_contents",
    "zk_super_credentials",
    "zk_master_credentials",
    "zk_agent_credentials",
    "ca_certificate_path",
    "ca_certificate_key_path",
    "ca_certificate_chain_path",
    "bouncer_expiration_auth_token_days",
    "dcos_audit_logging",
    "fault_domain_enabled",
    "licensing_enabled",
    "feature_dcos_storage_enabled",
    "auth_cookie_secure_flag",
];

/// Boolean keys: DC/OS accepts only `true`/`false` (YAML booleans become those strings).
pub const BOOLEANS: &[&str] = &[
    "adminrouter_tls_1_0_enabled",
    "adminrouter_tls_1_1_enabled",
    "adminrouter_tls_1_2_enabled",
    "auth_cookie_secure_flag",
    "check_time",
    "cluster_docker_credentials_dcos_owned",
    "cluster_docker_credentials_enabled",
    "cluster_docker_credentials_write_to_etc",
    "dcos_l4lb_enable_ipset",
    "dcos_l4lb_enable_ipv6",
    "dcos_net_cluster_identity",
    "dcos_net_rest_enable",
    "dcos_net_watchdog",
    "dcos_overlay_enable",
    "dcos_remove_dockercfg_enable",
    "enable_docker_gc",
    "enable_gpu_isolation",
    "enable_ipv6",
    "enable_lb",
    "enable_mesos_input_plugin",
    "enable_mesos_ipv6_discovery",
    "exhibitor_explicit_keys",
    "gpus_are_scarce",
    "log_offers",
    "master_dns_bindall",
    "mesos_cni_root_dir_persist",
    "mesos_dns_set_truncate_bit",
    "mesos_seccomp_enabled",
    "oauth_available",
    "oauth_enabled",
    "telemetry_enabled",
    "use_proxy",
];

/// Whether DC/OS 1.13 (open source or Enterprise) knows `key`.
pub fn is_dcos_key(key: &str) -> bool {
    [MAPPED, CHECKED, OTHER, ENTERPRISE]
        .iter()
        .any(|list| list.contains(&key))
}

/// Every known key, for "did you mean".
pub fn all() -> impl Iterator<Item = &'static str> {
    [MAPPED, CHECKED, OTHER, ENTERPRISE]
        .into_iter()
        .flat_map(|list| list.iter().copied())
}
