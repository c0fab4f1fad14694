//! In-process HTTP tests: the production app (`build_app` over the production wiring) driven
//! through Actix's test service, each test on its own SQLite database and, with
//! `TEST_DATABASE_URL`, on PostgreSQL too.
#![cfg(test)]

mod account;
mod admin;
mod audit;
mod cli;
mod cors;
mod devices;
mod docs;
mod endpoints;
mod envelope;
mod logs;
mod request_id;
mod security_headers;
mod startup;
mod support;
mod throttle;
mod timeout;
mod unicode;
