//! AlmaLinux (`ID=almalinux`).

super::el::el_module!(Alma, "almalinux", "AlmaLinux", super::el::MAJORS);
