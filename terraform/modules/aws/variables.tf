# The same variables in every Strato module (aws, azure, gcp), so a root module can switch clouds
# by changing its source. `strato cloud terraform` fills them from cluster.yaml.

variable "cluster_name" {
  description = "Cluster name: prefix of every resource name, and the strato-cluster tag/label."
  type        = string
}

variable "cluster_id" {
  description = "Short id tagged as strato-cluster-id beside the name (strato cloud uses the same id, so `strato cloud status/destroy` see these resources)."
  type        = string
}

variable "location" {
  description = "AWS: availability zone (\"\" = any in the provider's region). Azure: location (e.g. westeurope). GCP: zone (e.g. europe-west1-b)."
  type        = string
  default     = ""
}

variable "resource_group" {
  description = "Azure: resource group to create. Ignored on AWS and GCP."
  type        = string
  default     = ""
}

variable "num_masters" {
  description = "Number of masters: 1, 3, 5, 7 or 9."
  type        = number
  default     = 3
  validation {
    condition     = contains([1, 3, 5, 7, 9], var.num_masters)
    error_message = "num_masters must be 1, 3, 5, 7 or 9."
  }
}

variable "num_agents" {
  description = "Number of private agents."
  type        = number
  default     = 2
}

variable "num_public_agents" {
  description = "Number of public agents (ports 80, 443 and 10000-10100 open to the world)."
  type        = number
  default     = 1
}

variable "bootstrap_instance_type" {
  description = "Instance type / VM size / machine type of the bootstrap machine."
  type        = string
}

variable "master_instance_type" {
  description = "Instance type / VM size / machine type of the masters."
  type        = string
}

variable "agent_instance_type" {
  description = "Instance type / VM size / machine type of the private agents."
  type        = string
}

variable "public_agent_instance_type" {
  description = "Instance type / VM size / machine type of the public agents."
  type        = string
}

variable "os" {
  description = "Node OS family: rocky-9, alma-9, rhel-9, centos-stream-9, centos-7, debian-12, ubuntu-22.04, ubuntu-24.04, flatcar."
  type        = string
  default     = "rocky-9"
}

variable "image" {
  description = "Explicit image instead of looking up `os`: AMI id (AWS), publisher:offer:sku:version or image id (Azure), image self link (GCP). \"\" = look up."
  type        = string
  default     = ""
}

variable "ssh_user" {
  description = "Login user cloud-init creates, with passwordless sudo; `strato deploy` connects as it."
  type        = string
  default     = "strato"
}

variable "ssh_public_key" {
  description = "OpenSSH public key line authorised for ssh_user."
  type        = string
}

variable "admin_cidrs" {
  description = "CIDRs that may reach SSH (22) and the UI (80, 443 on masters)."
  type        = list(string)
}

variable "network_cidr" {
  description = "Address range of the cluster network; machines use its first /24."
  type        = string
  default     = "10.0.0.0/16"
}

variable "bootstrap_disk_gib" {
  description = "Root disk size of the bootstrap machine, GiB."
  type        = number
  default     = 60
}

variable "master_disk_gib" {
  description = "Root disk size of each master, GiB."
  type        = number
  default     = 120
}

variable "agent_disk_gib" {
  description = "Root disk size of each private agent, GiB."
  type        = number
  default     = 60
}

variable "public_agent_disk_gib" {
  description = "Root disk size of each public agent, GiB."
  type        = number
  default     = 60
}
