//! Red Hat Enterprise Linux (`ID=rhel`). RHEL CoreOS is matched earlier by `coreos.rs`.

super::el::el_module!(Rhel, "rhel", "Red Hat Enterprise Linux", super::el::MAJORS);
