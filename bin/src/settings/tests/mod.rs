//! Unit tests of the settings, each over a map or a temporary directory, never the process
//! environment.

mod env_example;
mod load;
mod metrics;
mod parse;
mod properties;
mod resilience;
mod secret_key;
