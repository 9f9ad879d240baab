# Root module written by `strato cloud terraform`. Values are in terraform.tfvars.

provider "aws" {
  region = var.region
}

module "strato" {
  source = "../../modules/aws"

  cluster_name               = var.cluster_name
  cluster_id                 = var.cluster_id
  location                   = var.location
  resource_group             = var.resource_group
  num_masters                = var.num_masters
  num_agents                 = var.num_agents
  num_public_agents          = var.num_public_agents
  bootstrap_instance_type    = var.bootstrap_instance_type
  master_instance_type       = var.master_instance_type
  agent_instance_type        = var.agent_instance_type
  public_agent_instance_type = var.public_agent_instance_type
  os                         = var.os
  image                      = var.image
  ssh_user                   = var.ssh_user
  ssh_public_key             = var.ssh_public_key
  admin_cidrs                = var.admin_cidrs
  network_cidr               = var.network_cidr
  bootstrap_disk_gib         = var.bootstrap_disk_gib
  master_disk_gib            = var.master_disk_gib
  agent_disk_gib             = var.agent_disk_gib
  public_agent_disk_gib      = var.public_agent_disk_gib
}

output "bootstrap_public_ip" {
  value = module.strato.bootstrap_public_ip
}

output "bootstrap_private_ip" {
  value = module.strato.bootstrap_private_ip
}

output "master_public_ips" {
  value = module.strato.master_public_ips
}

output "master_private_ips" {
  value = module.strato.master_private_ips
}

output "agent_public_ips" {
  value = module.strato.agent_public_ips
}

output "agent_private_ips" {
  value = module.strato.agent_private_ips
}

output "public_agent_public_ips" {
  value = module.strato.public_agent_public_ips
}

output "public_agent_private_ips" {
  value = module.strato.public_agent_private_ips
}
