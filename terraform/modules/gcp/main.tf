# Strato cluster machines on GCP: custom-mode VPC network and subnetwork, firewall rules aimed at
# network tags, one instance per machine with an external address. Same topology as `strato cloud create`.

locals {
  tags  = { "strato-cluster" = var.cluster_name, "strato-cluster-id" = var.cluster_id }
  roles = ["bootstrap", "master", "agent", "public-agent"]
  machines = merge(
    { "${var.cluster_name}-bootstrap" = { role = "bootstrap", type = var.bootstrap_instance_type, disk = var.bootstrap_disk_gib } },
    { for i in range(var.num_masters) : "${var.cluster_name}-master-${i + 1}" => { role = "master", type = var.master_instance_type, disk = var.master_disk_gib } },
    { for i in range(var.num_agents) : "${var.cluster_name}-agent-${i + 1}" => { role = "agent", type = var.agent_instance_type, disk = var.agent_disk_gib } },
    { for i in range(var.num_public_agents) : "${var.cluster_name}-public-agent-${i + 1}" => { role = "public-agent", type = var.public_agent_instance_type, disk = var.public_agent_disk_gib } },
  )
  subnet_cidr = cidrsubnet(var.network_cidr, 24 - tonumber(split("/", var.network_cidr)[1]), 1)
  # Same document as `strato cloud create` sends: the login user for `strato deploy`.
  cloud_init = { for role in local.roles : role => <<-EOT
    #cloud-config
    users:
      - default
      - name: ${jsonencode(var.ssh_user)}
        shell: /bin/bash
        sudo: "ALL=(ALL) NOPASSWD:ALL"
        lock_passwd: true
        ssh_authorized_keys:
          - ${jsonencode(var.ssh_public_key)}
    write_files:
      - path: /etc/strato-node
        permissions: "0644"
        content: |
          cluster=${var.cluster_name}
          role=${role}
    runcmd:
      - [mkdir, -p, /opt/strato]
  EOT
  }
  public_agent_ports = [["80", "80"], ["443", "443"], ["10000", "10100"]]
}

locals {
  image_lookup = {
    "rocky-9"         = "projects/rocky-linux-cloud/global/images/family/rocky-linux-9"
    "alma-9"          = "projects/almalinux-cloud/global/images/family/almalinux-9"
    "rhel-9"          = "projects/rhel-cloud/global/images/family/rhel-9"
    "centos-stream-9" = "projects/centos-cloud/global/images/family/centos-stream-9"
    "centos-7"        = "projects/centos-cloud/global/images/family/centos-7"
    "debian-12"       = "projects/debian-cloud/global/images/family/debian-12"
    "ubuntu-22.04"    = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts"
    "ubuntu-24.04"    = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"
    "flatcar"         = "projects/kinvolk-public/global/images/family/flatcar-stable"
  }
  image       = var.image != "" ? var.image : local.image_lookup[var.os]
  region      = join("-", slice(split("-", var.location), 0, 2))
  description = "strato-cluster=${var.cluster_name} strato-cluster-id=${var.cluster_id}"
  role_tag    = { for role in local.roles : role => "${var.cluster_name}-${role}" }
}

resource "google_compute_network" "net" {
  name                    = "${var.cluster_name}-net"
  auto_create_subnetworks = false
  description             = local.description
}

resource "google_compute_subnetwork" "subnet" {
  name          = "${var.cluster_name}-subnet"
  region        = local.region
  network       = google_compute_network.net.id
  ip_cidr_range = local.subnet_cidr
  description   = local.description
}

resource "google_compute_firewall" "ssh" {
  name          = "${var.cluster_name}-ssh"
  network       = google_compute_network.net.id
  description   = local.description
  source_ranges = var.admin_cidrs
  target_tags   = [var.cluster_name]
  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_firewall" "internal" {
  name          = "${var.cluster_name}-internal"
  network       = google_compute_network.net.id
  description   = local.description
  source_ranges = [var.network_cidr]
  target_tags   = [var.cluster_name]
  allow {
    protocol = "tcp"
  }
  allow {
    protocol = "udp"
  }
  allow {
    protocol = "icmp"
  }
}

resource "google_compute_firewall" "ui" {
  name          = "${var.cluster_name}-ui"
  network       = google_compute_network.net.id
  description   = local.description
  source_ranges = var.admin_cidrs
  target_tags   = [local.role_tag["master"]]
  allow {
    protocol = "tcp"
    ports    = ["80", "443"]
  }
}

resource "google_compute_firewall" "public_agents" {
  name          = "${var.cluster_name}-public-agents"
  network       = google_compute_network.net.id
  description   = local.description
  source_ranges = ["0.0.0.0/0"]
  target_tags   = [local.role_tag["public-agent"]]
  allow {
    protocol = "tcp"
    ports    = ["80", "443", "10000-10100"]
  }
}

resource "google_compute_instance" "machine" {
  for_each     = local.machines
  name         = each.key
  zone         = var.location
  machine_type = each.value.type
  labels       = merge(local.tags, { "strato-role" = each.value.role })
  tags         = [var.cluster_name, local.role_tag[each.value.role]]
  metadata = {
    "ssh-keys"  = "${var.ssh_user}:${var.ssh_public_key}"
    "user-data" = local.cloud_init[each.value.role]
  }
  boot_disk {
    auto_delete = true
    initialize_params {
      image = local.image
      size  = each.value.disk
    }
  }
  network_interface {
    subnetwork = google_compute_subnetwork.subnet.id
    access_config {}
  }
}

locals {
  public_ips  = { for role in local.roles : role => [for name, m in local.machines : google_compute_instance.machine[name].network_interface[0].access_config[0].nat_ip if m.role == role] }
  private_ips = { for role in local.roles : role => [for name, m in local.machines : google_compute_instance.machine[name].network_interface[0].network_ip if m.role == role] }
}
