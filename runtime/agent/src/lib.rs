//! The Strato agent: reports resources, runs tasks in sandboxes, health checks, re-attaches after restart
