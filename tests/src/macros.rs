//! `api_test!`: one body, one test per backend, each with its own server and database.

use std::future::Future;

/// Runs a test body on a fresh Actix system (a current-thread runtime), which the server's
/// `!Send` future needs.
pub fn run(test: impl Future<Output = ()>) {
    actix_web::rt::System::new().block_on(test);
}

/// Writes a module `NAME` with the tests `NAME::sqlite` and `NAME::postgres`. Each gets its
/// own database and server, stopped at the end.
///
/// `NAME::sqlite` always runs. `NAME::postgres` runs when `TEST_DATABASE_URL` is set, and
/// fails if the server does not answer; without it the test is reported as ignored (`needs
/// TEST_DATABASE_URL`), so the count of passed tests is the count of tests that ran. That is
/// decided when the tests are compiled, by `cfg(postgres_tests)`, which the build script of
/// this crate sets from `TEST_DATABASE_URL`. (`REQUIRE_POSTGRES=1` without the URL fails the
/// run through a guard test in `auth-persistence`.)
///
/// The forms:
///
/// - `async fn name(server: &TestServer) { … }` — HTTP only. With `APP_BASE_URL` set, the
///   `sqlite` test targets that deployment instead, and the `postgres` test returns at once
///   and is reported as passed: the deployment has one database, already covered by the
///   `sqlite` run, and an environment variable read at run time cannot mark a test ignored.
/// - `async fn name(server: &TestServer, db: &TestDb) { … }` — also writes to the database.
/// - `async fn name(db: &TestDb) { … }` — the body starts its own server with
///   [`TestServer::spawn_with`](crate::TestServer::spawn_with), for other settings.
///
/// The last two always run locally, also when `APP_BASE_URL` is set.
#[macro_export]
macro_rules! api_test {
    ($(#[$meta:meta])* async fn $name:ident($server:ident: &TestServer $(,)?) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($server: &$crate::TestServer) $body

            #[test]
            fn sqlite() {
                $crate::run(async {
                    if let Some(remote) = $crate::TestServer::remote_from_env() {
                        return body(&remote).await;
                    }
                    let db = $crate::TestDb::sqlite().await;
                    let server = $crate::TestServer::spawn(&db).await;
                    body(&server).await;
                    server.stop().await;
                });
            }

            #[test]
            #[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
            fn postgres() {
                $crate::run(async {
                    // Against a deployment (`APP_BASE_URL`) the `sqlite` test covers it.
                    if $crate::TestServer::remote_from_env().is_some() {
                        return;
                    }
                    let db = $crate::TestDb::postgres().await;
                    let server = $crate::TestServer::spawn(&db).await;
                    body(&server).await;
                    server.stop().await;
                });
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($server:ident: &TestServer, $db:ident: &TestDb $(,)?) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($server: &$crate::TestServer, $db: &$crate::TestDb) $body

            #[test]
            fn sqlite() {
                $crate::run(async {
                    let db = $crate::TestDb::sqlite().await;
                    let server = $crate::TestServer::spawn(&db).await;
                    body(&server, &db).await;
                    server.stop().await;
                });
            }

            #[test]
            #[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
            fn postgres() {
                $crate::run(async {
                    let db = $crate::TestDb::postgres().await;
                    let server = $crate::TestServer::spawn(&db).await;
                    body(&server, &db).await;
                    server.stop().await;
                });
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($db:ident: &TestDb $(,)?) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: &$crate::TestDb) $body

            #[test]
            fn sqlite() {
                $crate::run(async { body(&$crate::TestDb::sqlite().await).await });
            }

            #[test]
            #[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
            fn postgres() {
                $crate::run(async { body(&$crate::TestDb::postgres().await).await });
            }
        }
    };
}
