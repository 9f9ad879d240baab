# The same outputs in every Strato module. `strato config import-terraform` reads them from
# `terraform output -json` and writes the public addresses into cluster.yaml.

output "bootstrap_public_ip" {
  description = "Public address of the bootstrap machine."
  value       = local.public_ips["bootstrap"][0]
}

output "bootstrap_private_ip" {
  description = "Private address of the bootstrap machine."
  value       = local.private_ips["bootstrap"][0]
}

output "master_public_ips" {
  description = "Public addresses of the masters."
  value       = local.public_ips["master"]
}

output "master_private_ips" {
  description = "Private addresses of the masters."
  value       = local.private_ips["master"]
}

output "agent_public_ips" {
  description = "Public addresses of the private agents."
  value       = local.public_ips["agent"]
}

output "agent_private_ips" {
  description = "Private addresses of the private agents."
  value       = local.private_ips["agent"]
}

output "public_agent_public_ips" {
  description = "Public addresses of the public agents."
  value       = local.public_ips["public-agent"]
}

output "public_agent_private_ips" {
  description = "Private addresses of the public agents."
  value       = local.private_ips["public-agent"]
}
