-- Asymmetric signing keys (EdDSA, ES256): the public key as a JWK, the private key sealed
-- with the key-encryption key (JWT_KEY_ENCRYPTION_KEY), and where the key is in its life.
-- A key is published (pending) before it signs (active), stays published while tokens it
-- signed may live (retiring), then is retired; a revoked key is refused at once.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_key TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    activates_at TIMESTAMP NOT NULL,
    superseded_at TIMESTAMP,
    retire_after TIMESTAMP,
    retired_at TIMESTAMP
);
CREATE INDEX signing_keys_state_idx ON signing_keys (state);
