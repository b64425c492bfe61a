//! What leaf supervises and reports to: the managed `nats-server` child and systemd.

pub mod nats_server;
pub mod systemd;
