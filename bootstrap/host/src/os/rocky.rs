//! Rocky Linux (`ID=rocky`).

super::el::el_module!(Rocky, "rocky", "Rocky Linux", super::el::MAJORS);
