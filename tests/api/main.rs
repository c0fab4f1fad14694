//! The black-box API suite: the real server over real HTTP, one module per endpoint or
//! concern. Every case runs on SQLite and, with `TEST_DATABASE_URL`, on PostgreSQL; see
//! `auth_tests::api_test!`.
#![cfg(test)]

mod account;
mod docs;
mod downstream;
mod envelope;
mod flow;
mod health;
mod login;
mod malformed;
mod me;
mod metrics;
mod openapi;
mod outage;
mod raw_http;
mod refresh;
mod register;
mod request_id;
mod retention;
mod slow_postgres;
mod sqlite_faults;
