//! The web dashboard: one static page (no build step) reading the master's APIs
