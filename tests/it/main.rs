//! Integration tests of the `fair` executable, one module per behaviour.

mod helpers;
mod http;
mod inproc;

mod actions;
mod architecture;
mod cli;
mod content;
mod crash;
mod demo;
mod deploy;
mod diff;
mod exclude;
mod faults;
mod fuzz;
mod golden;
mod incremental;
mod intern;
mod locate;
mod manifest;
mod manifest_names;
mod metadata;
mod ops;
mod problems;
mod reload;
mod routes;
mod schemas;
mod server;
mod settings;
mod shards;
mod shell;
mod snapshot;
mod streaming;
mod unattended;
mod update;
mod vectors;
