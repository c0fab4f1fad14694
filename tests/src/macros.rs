//! `api_test!`: one body, one test per backend, each with its own server and database.

use std::future::Future;

/// Runs a test body on a fresh Actix system (a current-thread runtime), which the server's
/// `!Send` future needs.
pub fn run(test: impl Future<Output = ()>) {
    actix_web::rt::System::new().block_on(test);
}

/// Writes a module `NAME` with the tests `NAME::sqlite` (always) and `NAME::postgres` (when
/// `TEST_DATABASE_URL` is set; a failure with `REQUIRE_POSTGRES=1` if it is not). Each gets
/// its own database and server, stopped at the end. The forms:
///
/// - `async fn name(server: &TestServer) { … }` — HTTP only. With `APP_BASE_URL` set, the
///   `sqlite` test targets that deployment instead and the `postgres` test is skipped.
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
            fn postgres() {
                $crate::run(async {
                    if $crate::TestServer::remote_from_env().is_some() {
                        return;
                    }
                    let Some(db) = $crate::TestDb::postgres().await else { return };
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
            fn postgres() {
                $crate::run(async {
                    let Some(db) = $crate::TestDb::postgres().await else { return };
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
            fn postgres() {
                $crate::run(async {
                    if let Some(db) = $crate::TestDb::postgres().await {
                        body(&db).await;
                    }
                });
            }
        }
    };
}
