//! The auth service's HTTP layer: a thin Actix-web application over `auth_services`.
//!
//! [`startup::Application`] wires settings, database, services and the server;
//! [`app::build_app`] builds the Actix app itself, so in-process tests use the production
//! wiring. Handlers parse, call one service method and answer; every error leaves in the
//! JSON envelope of the contract.
//!
//! [`cli::Cli`] is the command line: the server by default, or an [`admin`] command that
//! disables or enables an account with the server's settings, or a [`keys`] command that
//! lists, rotates or revokes the signing keys.

pub mod admin;
pub mod app;
pub mod cli;
pub mod client_ip;
pub mod device_cookie;
pub mod dto;
pub mod error;
pub mod extract;
pub mod healthcheck;
pub mod keys;
pub mod middleware;
pub mod openapi;
pub mod prometheus;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
