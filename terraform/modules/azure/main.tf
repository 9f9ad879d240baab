# Strato cluster machines on Azure: resource group, one NSG per role, virtual network and subnet,
# and per machine a static public IP, a NIC and a Linux VM. Same topology as `strato cloud create`.

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
    "rocky-9"      = { publisher = "resf", offer = "rockylinux-x86_64", sku = "9-base" }
    "alma-9"       = { publisher = "almalinux", offer = "almalinux-x86_64", sku = "9-gen2" }
    "rhel-9"       = { publisher = "RedHat", offer = "RHEL", sku = "9-lvm-gen2" }
    "centos-7"     = { publisher = "OpenLogic", offer = "CentOS", sku = "7_9-gen2" }
    "debian-12"    = { publisher = "Debian", offer = "debian-12", sku = "12-gen2" }
    "ubuntu-22.04" = { publisher = "Canonical", offer = "0001-com-ubuntu-server-jammy", sku = "22_04-lts-gen2" }
    "ubuntu-24.04" = { publisher = "Canonical", offer = "ubuntu-24_04-lts", sku = "server" }
    "flatcar"      = { publisher = "kinvolk", offer = "flatcar-container-linux-free", sku = "stable-gen2" }
  }
  image_is_id = startswith(var.image, "/subscriptions/")
  image_urn   = var.image != "" && !local.image_is_id ? split(":", var.image) : []
  image = var.image == "" ? merge(local.image_lookup[var.os], { version = "latest" }) : (
    local.image_is_id ? null : { publisher = local.image_urn[0], offer = local.image_urn[1], sku = local.image_urn[2], version = local.image_urn[3] }
  )
  resource_group = var.resource_group != "" ? var.resource_group : "${var.cluster_name}-rg"
  rules = {
    "ssh"           = { priority = 100, protocol = "Tcp", ports = ["22"], sources = var.admin_cidrs, roles = local.roles }
    "internal"      = { priority = 110, protocol = "*", ports = ["*"], sources = [var.network_cidr], roles = local.roles }
    "ui"            = { priority = 120, protocol = "Tcp", ports = ["80", "443"], sources = var.admin_cidrs, roles = ["master"] }
    "public-agents" = { priority = 130, protocol = "Tcp", ports = ["80", "443", "10000-10100"], sources = ["0.0.0.0/0"], roles = ["public-agent"] }
  }
}

resource "azurerm_resource_group" "rg" {
  name     = local.resource_group
  location = var.location
  tags     = local.tags
}

resource "azurerm_network_security_group" "role" {
  for_each            = toset(local.roles)
  name                = "${var.cluster_name}-${each.key}-nsg"
  location            = var.location
  resource_group_name = azurerm_resource_group.rg.name
  tags                = local.tags
  dynamic "security_rule" {
    for_each = { for name, r in local.rules : name => r if contains(r.roles, each.key) }
    content {
      name                       = security_rule.key
      priority                   = security_rule.value.priority
      direction                  = "Inbound"
      access                     = "Allow"
      protocol                   = security_rule.value.protocol
      source_port_range          = "*"
      source_address_prefixes    = security_rule.value.sources
      destination_port_ranges    = security_rule.value.ports
      destination_address_prefix = "*"
    }
  }
}

resource "azurerm_virtual_network" "net" {
  name                = "${var.cluster_name}-net"
  location            = var.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = [var.network_cidr]
  tags                = local.tags
}

resource "azurerm_subnet" "subnet" {
  name                 = "${var.cluster_name}-subnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.net.name
  address_prefixes     = [local.subnet_cidr]
}

resource "azurerm_public_ip" "machine" {
  for_each            = local.machines
  name                = "${each.key}-ip"
  location            = var.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = merge(local.tags, { "strato-role" = each.value.role })
}

resource "azurerm_network_interface" "machine" {
  for_each            = local.machines
  name                = "${each.key}-nic"
  location            = var.location
  resource_group_name = azurerm_resource_group.rg.name
  tags                = merge(local.tags, { "strato-role" = each.value.role })
  ip_configuration {
    name                          = "ipconfig1"
    subnet_id                     = azurerm_subnet.subnet.id
    private_ip_address_allocation = "Dynamic"
    public_ip_address_id          = azurerm_public_ip.machine[each.key].id
  }
}

resource "azurerm_network_interface_security_group_association" "machine" {
  for_each                  = local.machines
  network_interface_id      = azurerm_network_interface.machine[each.key].id
  network_security_group_id = azurerm_network_security_group.role[each.value.role].id
}

resource "azurerm_linux_virtual_machine" "machine" {
  for_each                        = local.machines
  name                            = each.key
  location                        = var.location
  resource_group_name             = azurerm_resource_group.rg.name
  size                            = each.value.type
  admin_username                  = var.ssh_user
  disable_password_authentication = true
  network_interface_ids           = [azurerm_network_interface.machine[each.key].id]
  custom_data                     = base64encode(local.cloud_init[each.value.role])
  tags                            = merge(local.tags, { "strato-role" = each.value.role })
  admin_ssh_key {
    username   = var.ssh_user
    public_key = var.ssh_public_key
  }
  os_disk {
    caching              = "ReadWrite"
    storage_account_type = "Premium_LRS"
    disk_size_gb         = each.value.disk
  }
  # Marketplace images (Rocky, Alma, Flatcar) need their purchase plan named; accept the terms
  # once per subscription with `az vm image terms accept`.
  dynamic "plan" {
    for_each = contains(["resf", "almalinux", "kinvolk"], try(lower(local.image.publisher), "")) ? [local.image] : []
    content {
      name      = plan.value.sku
      product   = plan.value.offer
      publisher = plan.value.publisher
    }
  }
  source_image_id = local.image_is_id ? var.image : null
  dynamic "source_image_reference" {
    for_each = local.image_is_id ? [] : [local.image]
    content {
      publisher = source_image_reference.value.publisher
      offer     = source_image_reference.value.offer
      sku       = source_image_reference.value.sku
      version   = source_image_reference.value.version
    }
  }
}

locals {
  public_ips  = { for role in local.roles : role => [for name, m in local.machines : azurerm_public_ip.machine[name].ip_address if m.role == role] }
  private_ips = { for role in local.roles : role => [for name, m in local.machines : azurerm_network_interface.machine[name].private_ip_address if m.role == role] }
}
