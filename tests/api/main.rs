//! Integration tests: a real leaf process, a real nats-server, no mocks.

mod access;
mod health;
mod helpers;
mod http;
mod lifecycle;
mod systemd;
mod tournaments;
mod ws;
