//! Unicode in passwords and emails: one spelling typed two ways is one password, one address.

use auth_services::RegisterError;

use super::*;

/// "Crème brûlée, s'il vous plaît" with precomposed letters (NFC)…
const COMPOSED: &str = "Cr\u{e8}me br\u{fb}l\u{e9}e, s'il vous pla\u{ee}t";
/// …and with a base letter plus combining accent each (NFD), as some platforms send it.
const DECOMPOSED: &str = "Cre\u{300}me bru\u{302}le\u{301}e, s'il vous plai\u{302}t";

fn register_with(email: &str, username: &str, password: &str) -> RegisterInput {
    RegisterInput::parse(email, username, SecretString::from(password)).unwrap()
}

async fn stored(db: &TestDb, id: i64) -> users::UserRecord {
    users::find_by_id(db.pool(), id).await.unwrap().unwrap()
}

db_test!(async fn a_password_registered_composed_logs_in_decomposed(db) {
    let (auth, _) = service(db);
    let registered = auth.register(&ANON, register_with("ann@example.com", "ann", COMPOSED)).await.unwrap();
    assert!(stored(db, registered.user.id.get()).await.password_normalized);
    let signed_in = auth.login(&ANON, by_email("ann@example.com", DECOMPOSED)).await.unwrap();
    assert_eq!(signed_in.user.id, registered.user.id);
    auth.login(&ANON, by_username("ann", COMPOSED)).await.unwrap();
});

db_test!(async fn a_legacy_hash_of_raw_bytes_verifies_as_typed_then_is_rehashed_and_marked(db) {
    let (auth, _) = service(db);
    // As the Python service stored it: bcrypt of the decomposed bytes, not marked.
    let legacy_hash = bcrypt::hash(DECOMPOSED, 4).unwrap();
    let legacy = NewUser { email: "py@example.com", username: "py", hashed_password: &legacy_hash, password_normalized: false, now: OffsetDateTime::now_utc() };
    let user = users::insert(db.pool(), legacy).await.unwrap();
    let other_form = auth.login(&ANON, by_username("py", COMPOSED)).await;
    assert_eq!(kind(&other_form), "InvalidCredentials", "verified against the bytes as typed");
    assert_eq!(stored(db, user.id).await.hashed_password, legacy_hash);
    auth.login(&ANON, by_username("py", DECOMPOSED)).await.unwrap();
    let upgraded = stored(db, user.id).await;
    assert!(upgraded.hashed_password.starts_with("$argon2id$"));
    assert!(upgraded.password_normalized);
    auth.login(&ANON, by_username("py", COMPOSED)).await.unwrap();
});

db_test!(async fn an_unmarked_current_hash_is_rehashed_and_marked_after_login(db) {
    let (auth, _) = service(db);
    // An argon2id hash of the composed bytes, as this service made them before
    // normalisation: current parameters, so only the missing marker asks for a rehash.
    let hasher = PasswordHasher::new(PasswordConfig::for_tests()).unwrap();
    let raw = hasher.hash(&SecretString::from(COMPOSED)).unwrap();
    let before = NewUser { email: "old@example.com", username: "old", hashed_password: raw.as_str(), password_normalized: false, now: OffsetDateTime::now_utc() };
    let user = users::insert(db.pool(), before).await.unwrap();
    auth.login(&ANON, by_username("old", COMPOSED)).await.unwrap();
    let upgraded = stored(db, user.id).await;
    assert!(upgraded.password_normalized);
    assert_ne!(upgraded.hashed_password, raw.as_str(), "rehashed");
    auth.login(&ANON, by_username("old", DECOMPOSED)).await.unwrap();
});

db_test!(async fn an_email_registered_decomposed_is_taken_composed_and_found_by_either(db) {
    let (auth, _) = service(db);
    let decomposed = "Jose\u{301}@example.com";
    let composed = "jos\u{e9}@example.com";
    let registered = auth.register(&ANON, register_input(decomposed, "jose")).await.unwrap();
    assert_eq!(registered.user.email, "Jos\u{e9}@example.com", "kept in NFC");
    let again = auth.register(&ANON, register_input(composed, "jose2")).await;
    assert!(matches!(again, Err(RegisterError::UserExists)), "{again:?}");
    for email in [decomposed, composed] {
        let signed_in = auth.login(&ANON, by_email(email, PASSWORD)).await.unwrap();
        assert_eq!(signed_in.user.id, registered.user.id, "{email:?}");
    }
});
