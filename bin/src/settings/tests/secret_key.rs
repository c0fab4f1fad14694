//! Tests of the generated JWT key kept beside the SQLite database.

use std::sync::Arc;

use auth_crypto::JwtAlgorithm;
use auth_persistence::DbConfig;
use secrecy::{ExposeSecret as _, SecretString};

use crate::settings::secret_key::{key_file_path, load_or_create};
use crate::settings::{ConfigError, KEK_FILE_SUFFIX, KEY_FILE_SUFFIX, Settings};

/// Test settings without a configured key, on an SQLite file in `dir`.
fn sqlite_settings(dir: &tempfile::TempDir) -> Settings {
    Settings {
        database: DbConfig::new(format!("sqlite://{}", dir.path().join("auth.db").display()))
            .unwrap(),
        jwt_secret_key: None,
        ..Settings::for_tests()
    }
}

/// Writes `contents` to `path` as the service would keep a key: owner-only.
fn write_private(path: &std::path::Path, contents: &str) {
    std::fs::write(path, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn a_missing_key_is_generated_beside_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = sqlite_settings(&dir).resolve_jwt_secret().unwrap();
    let file = dir.path().join(format!("auth.db{KEY_FILE_SUFFIX}"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), key.expose_secret());
    assert_eq!(key.expose_secret().len(), 43);
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        leftovers, 1,
        "only the key file is left (no database, no temp file)"
    );
}

#[cfg(unix)]
#[test]
fn the_generated_key_file_is_readable_only_by_its_owner() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    sqlite_settings(&dir).resolve_jwt_secret().unwrap();
    let file = dir.path().join("auth.db.jwt-key");
    let mode = std::fs::metadata(file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_second_start_reads_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let settings = sqlite_settings(&dir);
    let first = settings.resolve_jwt_secret().unwrap();
    let second = settings.resolve_jwt_secret().unwrap();
    assert_eq!(first.expose_secret(), second.expose_secret());
}

#[test]
fn two_instances_starting_together_agree_on_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("race.db.jwt-key"));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let path = Arc::clone(&path);
            std::thread::spawn(move || load_or_create(&path, JwtAlgorithm::HS256).unwrap())
        })
        .collect();
    let keys: Vec<String> = threads
        .into_iter()
        .map(|t| t.join().unwrap().expose_secret().to_owned())
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "{} keys", keys.len());
    assert_eq!(std::fs::read_to_string(&*path).unwrap(), keys[0]);
}

#[test]
fn a_configured_key_wins_and_no_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let configured = "k".repeat(40);
    let settings = Settings {
        jwt_secret_key: Some(SecretString::from(configured.clone())),
        ..sqlite_settings(&dir)
    };
    assert_eq!(
        settings.resolve_jwt_secret().unwrap().expose_secret(),
        configured
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn postgres_without_a_key_is_refused_naming_jwt_secret_key() {
    let settings = Settings {
        database: DbConfig::new("postgres://app:pw@db/auth").unwrap(),
        jwt_secret_key: None,
        ..Settings::for_tests()
    };
    let err = settings.resolve_jwt_secret().unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Missing {
            var: "JWT_SECRET_KEY",
            ..
        }
    ));
    let shown = err.to_string();
    assert!(shown.contains("JWT_SECRET_KEY"), "{shown}");
    assert!(shown.contains("PostgreSQL"), "{shown}");
}

#[test]
fn a_corrupted_short_key_file_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.db.jwt-key");
    write_private(&file, "short-key");
    let err = sqlite_settings(&dir).resolve_jwt_secret().unwrap_err();
    let shown = err.to_string();
    assert!(matches!(err, ConfigError::KeyFile { .. }));
    assert!(shown.contains(&file.display().to_string()), "{shown}");
    assert!(!shown.contains("short-key"), "{shown}");
    assert!(!shown.contains('\n'), "{shown}");
}

#[test]
fn a_key_file_with_a_trailing_newline_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let key = "x".repeat(32);
    write_private(&dir.path().join("auth.db.jwt-key"), &format!("{key}\n"));
    let resolved = sqlite_settings(&dir).resolve_jwt_secret().unwrap();
    assert_eq!(resolved.expose_secret(), key);
}

#[test]
fn an_unwritable_directory_is_reported_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        database: DbConfig::new(format!(
            "sqlite://{}",
            dir.path().join("no/such/dir/auth.db").display()
        ))
        .unwrap(),
        ..sqlite_settings(&dir)
    };
    let shown = settings.resolve_jwt_secret().unwrap_err().to_string();
    assert!(shown.contains("auth.db.jwt-key"), "{shown}");
}

#[test]
fn an_in_memory_database_gets_a_key_that_is_not_kept() {
    let settings = Settings {
        database: DbConfig::new("sqlite://:memory:").unwrap(),
        jwt_secret_key: None,
        ..Settings::for_tests()
    };
    assert_eq!(
        settings.resolve_jwt_secret().unwrap().expose_secret().len(),
        43
    );
}

#[test]
fn the_key_file_is_named_after_the_database_file() {
    assert_eq!(
        key_file_path("data/auth.db"),
        std::path::Path::new("data/auth.db.jwt-key")
    );
}

#[test]
fn the_generated_key_is_as_long_as_the_algorithm_hash() {
    for (algorithm, min) in [
        (JwtAlgorithm::HS256, 32),
        (JwtAlgorithm::HS384, 48),
        (JwtAlgorithm::HS512, 64),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            jwt_algorithm: algorithm,
            ..sqlite_settings(&dir)
        };
        let key = settings.resolve_jwt_secret().unwrap();
        assert!(key.expose_secret().len() >= min, "{algorithm:?}");
        let again = settings.resolve_jwt_secret().unwrap();
        assert_eq!(key.expose_secret(), again.expose_secret());
    }
}

#[test]
fn a_kept_key_too_short_for_hs512_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let hs256 = sqlite_settings(&dir).resolve_jwt_secret().unwrap();
    let settings = Settings {
        jwt_algorithm: JwtAlgorithm::HS512,
        ..sqlite_settings(&dir)
    };
    let err = settings.resolve_jwt_secret().unwrap_err();
    let shown = err.to_string();
    let file = dir.path().join("auth.db.jwt-key");
    assert!(matches!(err, ConfigError::KeyFile { .. }), "{shown}");
    assert!(shown.contains(&file.display().to_string()), "{shown}");
    assert!(shown.contains("HS512") && shown.contains("64"), "{shown}");
    assert!(!shown.contains('\n'), "{shown}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        hs256.expose_secret(),
        "the file is left as it was"
    );
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_access_is_refused_naming_the_file() {
    use std::os::unix::fs::PermissionsExt as _;

    for mode in [0o640, 0o604, 0o660, 0o666, 0o602] {
        let dir = tempfile::tempdir().unwrap();
        let settings = sqlite_settings(&dir);
        settings.resolve_jwt_secret().unwrap();
        let file = dir.path().join("auth.db.jwt-key");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = settings.resolve_jwt_secret().unwrap_err();
        let shown = err.to_string();
        assert!(matches!(err, ConfigError::KeyFile { .. }), "{shown}");
        assert!(shown.contains(&file.display().to_string()), "{shown}");
        assert!(shown.contains(&format!("{mode:04o}")), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }
    let dir = tempfile::tempdir().unwrap();
    let settings = sqlite_settings(&dir);
    settings.resolve_jwt_secret().unwrap();
    let file = dir.path().join("auth.db.jwt-key");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(
        settings.resolve_jwt_secret().is_ok(),
        "read-only for the owner is fine"
    );
}

#[cfg(unix)]
#[test]
fn a_key_file_owned_by_another_user_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let settings = sqlite_settings(&dir);
    settings.resolve_jwt_secret().unwrap();
    let file = dir.path().join("auth.db.jwt-key");
    let other = rustix::process::geteuid().as_raw().wrapping_add(1);
    // Giving a file away takes privileges; without them there is nothing to check here.
    if std::os::unix::fs::chown(&file, Some(other), None).is_err() {
        return;
    }
    let err = settings.resolve_jwt_secret().unwrap_err();
    let shown = err.to_string();
    assert!(matches!(err, ConfigError::KeyFile { .. }), "{shown}");
    assert!(shown.contains(&file.display().to_string()), "{shown}");
    assert!(shown.contains(&format!("owned by uid {other}")), "{shown}");
}

/// [`sqlite_settings`] signing with EdDSA, without a key-encryption key.
fn eddsa_settings(dir: &tempfile::TempDir) -> Settings {
    Settings {
        jwt_algorithm: JwtAlgorithm::EdDSA,
        jwt_key_encryption_key: None,
        ..sqlite_settings(dir)
    }
}

#[test]
fn hmac_needs_no_key_encryption_key_and_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        sqlite_settings(&dir)
            .resolve_key_encryption_key()
            .unwrap()
            .is_none()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_missing_key_encryption_key_is_generated_private_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let settings = eddsa_settings(&dir);
    let kek = settings.resolve_key_encryption_key().unwrap().unwrap();
    let file = dir.path().join(format!("auth.db{KEK_FILE_SUFFIX}"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), kek.expose_secret());
    assert!(kek.expose_secret().len() >= 32);
    let again = settings.resolve_key_encryption_key().unwrap().unwrap();
    assert_eq!(again.expose_secret(), kek.expose_secret());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = settings
            .resolve_key_encryption_key()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&file.display().to_string()) && err.contains("0644"),
            "{err}"
        );
    }
}

#[test]
fn a_configured_key_encryption_key_wins_and_postgres_requires_one() {
    let dir = tempfile::tempdir().unwrap();
    let configured = Settings {
        jwt_key_encryption_key: Some(SecretString::from("k".repeat(32))),
        ..eddsa_settings(&dir)
    };
    let kek = configured.resolve_key_encryption_key().unwrap().unwrap();
    assert_eq!(kek.expose_secret(), "k".repeat(32));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let postgres = Settings {
        database: DbConfig::new("postgres://u:p@db/auth").unwrap(),
        ..eddsa_settings(&dir)
    };
    let err = postgres.resolve_key_encryption_key().unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Missing {
                var: "JWT_KEY_ENCRYPTION_KEY",
                ..
            }
        ),
        "{err}"
    );
}
