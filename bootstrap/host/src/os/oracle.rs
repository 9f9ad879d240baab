//! Oracle Linux (`ID=ol`), with either the Red Hat compatible or the UEK kernel.

super::el::el_module!(Oracle, "ol", "Oracle Linux", super::el::MAJORS);
