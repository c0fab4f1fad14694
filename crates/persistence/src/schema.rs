//! The one Diesel schema shared by both backends: portable column types only.
//!
//! Written by hand to match `migrations/postgres` and `migrations/sqlite`; the drift test in
//! `tests` selects every row type from a freshly migrated database of each backend.

diesel::table! {
    /// Accounts.
    users (id) {
        /// Surrogate key, shown to clients as a number.
        id -> BigInt,
        /// The address as given at registration (trimmed).
        email -> Text,
        /// NFC, then lower-cased address; unique.
        email_normalized -> Text,
        /// The username as given at registration.
        username -> Text,
        /// Lower-cased username; unique.
        username_normalized -> Text,
        /// PHC string (Argon2id) or bcrypt string.
        hashed_password -> Text,
        /// Inactive accounts cannot sign in or refresh.
        is_active -> Bool,
        /// Creation time, UTC.
        created_at -> Timestamp,
        /// Last change, UTC.
        updated_at -> Timestamp,
        /// Last successful sign-in, UTC.
        last_login -> Nullable<Timestamp>,
        /// Whether `hashed_password` was made from the NFKC form of the password.
        password_normalized -> Bool,
    }
}

diesel::table! {
    /// Sign-in sessions: one chain of refresh tokens each.
    sessions (id) {
        /// Session id (a hyphenated UUID), the `sid` claim of its tokens.
        id -> Text,
        /// Owner.
        user_id -> BigInt,
        /// SHA-256 of the `jti` of the refresh token that is valid now.
        current_jti_hash -> Text,
        /// SHA-256 of the `jti` it replaced, for the reuse grace window.
        previous_jti_hash -> Nullable<Text>,
        /// When the last rotation happened.
        rotated_at -> Nullable<Timestamp>,
        /// How many rotations the chain has gone through.
        generation -> BigInt,
        /// When the session was opened.
        created_at -> Timestamp,
        /// Last sign-in or refresh through this session.
        last_used_at -> Timestamp,
        /// Absolute end of the session, whatever the refreshes.
        expires_at -> Timestamp,
        /// When it was revoked, if it was.
        revoked_at -> Nullable<Timestamp>,
        /// Why it was revoked (`logout`, `reuse_detected`, …).
        revoked_reason -> Nullable<Text>,
        /// Client address at the opening or the last refresh.
        ip -> Nullable<Text>,
        /// User agent at the opening or the last refresh, at most 256 characters.
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    /// Attempt counters for throttling and lockout.
    throttles (key) {
        /// What is counted, e.g. `login:ip-account:203.0.113.9:ann@example.com`.
        key -> Text,
        /// Attempts in the current window.
        hits -> BigInt,
        /// Start of the current window.
        window_started_at -> Timestamp,
        /// Attempts are refused until then.
        blocked_until -> Nullable<Timestamp>,
        /// Last change.
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Append-only security history.
    audit_events (id) {
        /// Order of insertion.
        id -> BigInt,
        /// When it happened.
        occurred_at -> Timestamp,
        /// What happened (`login_failed`, `lockout`, …).
        event -> Text,
        /// Internal detail clients never see (`wrong_password`, …).
        reason -> Nullable<Text>,
        /// Request that caused it.
        request_id -> Nullable<Text>,
        /// Account concerned.
        user_id -> Nullable<BigInt>,
        /// Session concerned.
        session_id -> Nullable<Text>,
        /// Client address.
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    /// Devices an account signed in from, each known by an opaque token.
    device_tokens (id) {
        /// Device id (a hyphenated UUID); names the device's throttle bucket.
        id -> Text,
        /// Owner.
        user_id -> BigInt,
        /// SHA-256 (hex) of the token; unique.
        token_hash -> Text,
        /// When the token was issued, UTC.
        created_at -> Timestamp,
        /// When it stops being recognised, UTC.
        expires_at -> Timestamp,
        /// When it was revoked (deactivation), UTC.
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Data migrations done in Rust after the SQL ones, one row each once done.
    data_migrations (name) {
        /// Name of the step.
        name -> Text,
        /// When it was done.
        applied_at -> Timestamp,
    }
}

diesel::table! {
    /// Asymmetric token-signing keys and where each is in its life.
    signing_keys (kid) {
        /// Key id, the `kid` of the tokens it signs.
        kid -> Text,
        /// `EdDSA` or `ES256`.
        algorithm -> Text,
        /// The public key as a JWK (JSON).
        public_jwk -> Text,
        /// The private key (PKCS#8), sealed with the key-encryption key.
        private_key -> Text,
        /// `pending`, `active`, `retiring`, `retired` or `revoked`.
        state -> Text,
        /// When it was made, UTC.
        created_at -> Timestamp,
        /// When it starts signing, UTC.
        activates_at -> Timestamp,
        /// When the next key started signing, UTC.
        superseded_at -> Nullable<Timestamp>,
        /// When every token it signed has expired, UTC.
        retire_after -> Nullable<Timestamp>,
        /// When it was retired or revoked, UTC.
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(device_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    throttles,
    audit_events,
    device_tokens,
    signing_keys
);
