//! Leaf: the tournament appliance for poker venues.
//!
//! One binary: it supervises a real `nats-server` (JetStream), keeps its data in libSQL,
//! fans out over WebSockets, serves the embedded SvelteKit app and talks to systemd.
#![deny(unsafe_code)] // one commented exception: supervisor::nats_server::die_with_parent

pub mod accounts;
pub mod app;
pub mod auth;
pub mod bus;
pub mod config;
pub mod engine;
pub mod fault;
pub mod health;
pub mod http;
pub mod ids;
pub mod store;
pub mod supervisor;
pub mod tournaments;
