"""Independent check of the served JWKS: tokens of the running service verify with PyJWT and
cryptography, a JOSE implementation that is not ours.

Usage: pyjwt_check.py BASE_URL ALGORITHM
"""

import json
import sys
import urllib.request
import uuid

import jwt


def post(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def main():
    base, algorithm = sys.argv[1], sys.argv[2]
    name = "py_" + uuid.uuid4().hex[:8]
    tokens = post(
        base + "/auth/register",
        {"email": name + "@example.com", "username": name, "password": "a long passphrase"},
    )
    access, refresh = tokens["access_token"], tokens["refresh_token"]

    jwks_client = jwt.PyJWKClient(base + "/.well-known/jwks.json")
    signing_key = jwks_client.get_signing_key_from_jwt(access)
    header = jwt.get_unverified_header(access)
    assert header["alg"] == algorithm, header
    assert header["kid"] == signing_key.key_id, header

    claims = jwt.decode(access, signing_key.key, algorithms=[algorithm],
                        options={"require": ["exp", "iat", "nbf", "sub", "jti"]})
    assert claims["type"] == "access", claims
    assert claims["sub"] == str(tokens["user"]["id"]), claims
    refreshed = jwt.decode(refresh, signing_key.key, algorithms=[algorithm])
    assert refreshed["type"] == "refresh", refreshed

    tampered = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    try:
        jwt.decode(tampered, signing_key.key, algorithms=[algorithm])
    except jwt.InvalidSignatureError:
        pass
    else:
        raise AssertionError("a tampered token verified")

    for jwk in jwks_client.get_jwk_set().keys:
        assert jwk.algorithm_name == algorithm, jwk.algorithm_name
        assert "d" not in jwk._jwk_data, "private key published"
    print(f"PyJWT verified {algorithm} tokens against the served JWKS")


if __name__ == "__main__":
    main()
