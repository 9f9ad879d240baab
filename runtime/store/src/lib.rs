//! The master's state store: one Store trait with redb (one master), etcd (3/5 masters) and memory implementations
