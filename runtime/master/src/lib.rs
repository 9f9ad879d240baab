//! The Strato master: agent registry, Mesos-style endpoints, Marathon API v2, applying the scheduler's plans
