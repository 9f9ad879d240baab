# Strato cluster machines on AWS: VPC, internet gateway, public subnet, security groups,
# key pair and one EC2 instance per machine. Same topology as `strato cloud create`.

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
  ami_lookup = {
    "rocky-9"         = { owner = "792107900819", name = "Rocky-9-EC2-Base-9.*x86_64*" }
    "alma-9"          = { owner = "764336703387", name = "AlmaLinux OS 9.*x86_64*" }
    "rhel-9"          = { owner = "309956199498", name = "RHEL-9.*_HVM-*-x86_64-*" }
    "centos-stream-9" = { owner = "125523088429", name = "CentOS Stream 9 x86_64*" }
    "centos-7"        = { owner = "125523088429", name = "CentOS Linux 7 x86_64*" }
    "debian-12"       = { owner = "136693071363", name = "debian-12-amd64-*" }
    "ubuntu-22.04"    = { owner = "099720109477", name = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*" }
    "ubuntu-24.04"    = { owner = "099720109477", name = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*" }
    "flatcar"         = { owner = "075585003325", name = "Flatcar-stable-*-hvm" }
  }
  image_id = var.image != "" ? var.image : data.aws_ami.os[0].id
}

data "aws_ami" "os" {
  count       = var.image == "" ? 1 : 0
  most_recent = true
  owners      = [local.ami_lookup[var.os].owner]
  filter {
    name   = "name"
    values = [local.ami_lookup[var.os].name]
  }
}

resource "aws_vpc" "net" {
  cidr_block           = var.network_cidr
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = "${var.cluster_name}-net" })
}

resource "aws_internet_gateway" "igw" {
  vpc_id = aws_vpc.net.id
  tags   = merge(local.tags, { Name = "${var.cluster_name}-igw" })
}

resource "aws_subnet" "subnet" {
  vpc_id                  = aws_vpc.net.id
  cidr_block              = local.subnet_cidr
  availability_zone       = var.location != "" ? var.location : null
  map_public_ip_on_launch = true
  tags                    = merge(local.tags, { Name = "${var.cluster_name}-subnet" })
}

resource "aws_route_table" "routes" {
  vpc_id = aws_vpc.net.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.igw.id
  }
  tags = merge(local.tags, { Name = "${var.cluster_name}-routes" })
}

resource "aws_route_table_association" "subnet" {
  subnet_id      = aws_subnet.subnet.id
  route_table_id = aws_route_table.routes.id
}

resource "aws_security_group" "nodes" {
  name        = "${var.cluster_name}-nodes"
  description = "Strato cluster ${var.cluster_name}: ssh from admins, everything inside the cluster"
  vpc_id      = aws_vpc.net.id
  ingress {
    description = "ssh"
    protocol    = "tcp"
    from_port   = 22
    to_port     = 22
    cidr_blocks = var.admin_cidrs
  }
  ingress {
    description = "internal"
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = [var.network_cidr]
  }
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = merge(local.tags, { Name = "${var.cluster_name}-nodes" })
}

resource "aws_security_group" "masters" {
  name        = "${var.cluster_name}-masters"
  description = "Strato cluster ${var.cluster_name}: the UI from admins"
  vpc_id      = aws_vpc.net.id
  dynamic "ingress" {
    for_each = [80, 443]
    content {
      description = "ui"
      protocol    = "tcp"
      from_port   = ingress.value
      to_port     = ingress.value
      cidr_blocks = var.admin_cidrs
    }
  }
  tags = merge(local.tags, { Name = "${var.cluster_name}-masters" })
}

resource "aws_security_group" "public_agents" {
  name        = "${var.cluster_name}-public-agents"
  description = "Strato cluster ${var.cluster_name}: public agents serve the world"
  vpc_id      = aws_vpc.net.id
  dynamic "ingress" {
    for_each = local.public_agent_ports
    content {
      description = "public-agents"
      protocol    = "tcp"
      from_port   = tonumber(ingress.value[0])
      to_port     = tonumber(ingress.value[1])
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
  tags = merge(local.tags, { Name = "${var.cluster_name}-public-agents" })
}

resource "aws_key_pair" "key" {
  key_name   = "${var.cluster_name}-key"
  public_key = var.ssh_public_key
  tags       = merge(local.tags, { Name = "${var.cluster_name}-key" })
}

resource "aws_instance" "machine" {
  for_each      = local.machines
  ami           = local.image_id
  instance_type = each.value.type
  key_name      = aws_key_pair.key.key_name
  subnet_id     = aws_subnet.subnet.id
  vpc_security_group_ids = concat(
    [aws_security_group.nodes.id],
    each.value.role == "master" ? [aws_security_group.masters.id] : [],
    each.value.role == "public-agent" ? [aws_security_group.public_agents.id] : [],
  )
  user_data = local.cloud_init[each.value.role]
  root_block_device {
    volume_size           = each.value.disk
    volume_type           = "gp3"
    delete_on_termination = true
  }
  tags        = merge(local.tags, { Name = each.key, "strato-role" = each.value.role })
  volume_tags = merge(local.tags, { Name = each.key, "strato-role" = each.value.role })
  lifecycle {
    ignore_changes = [ami, user_data]
  }
}

locals {
  public_ips  = { for role in local.roles : role => [for name, m in local.machines : aws_instance.machine[name].public_ip if m.role == role] }
  private_ips = { for role in local.roles : role => [for name, m in local.machines : aws_instance.machine[name].private_ip if m.role == role] }
}
