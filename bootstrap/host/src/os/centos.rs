//! CentOS Stream (`ID=centos`). CentOS Linux 7 and Stream 8 are end of life, so only the
//! Stream releases still maintained are accepted.

super::el::el_module!(CentOs, "centos", "CentOS Stream", &[9, 10]);
