//! The `/auth` endpoints, one file each.

pub mod login;
pub mod logout;
pub mod me;
pub mod refresh;
pub mod register;
