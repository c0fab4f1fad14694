//! The `/auth` endpoints, one file each.

pub mod delete_account;
pub mod login;
pub mod logout;
pub mod logout_all;
pub mod me;
pub mod password;
pub mod refresh;
pub mod register;
pub mod revoke_session;
pub mod sessions;
