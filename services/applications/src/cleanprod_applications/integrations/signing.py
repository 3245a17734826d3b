"""Webhook signatures (Standard Webhooks style) and the encryption of subscription secrets at rest.

Signature: ``Webhook-Signature: v1,<base64(HMAC-SHA256(key, f"{id}.{timestamp}.".encode() + body))>`` where
``key`` is the secret's bytes: the base64 text after the ``whsec_`` prefix, decoded. ``id`` is the event id
(``Webhook-Id``), ``timestamp`` the unix seconds of this attempt (``Webhook-Timestamp``).

Secrets at rest: AES-256-GCM with the key from ``webhook_secret_key``, the subscription id as associated data
(a ciphertext copied onto another row does not decrypt), stored as ``v1.<key id>.<base64url(nonce‖ciphertext)>``;
the key id (first 8 hex digits of SHA-256 of the key) lets previous keys decrypt during a rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets as _secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
SIGNATURE_VERSION = "v1"

# Only for dev/test without APPLICATIONS_WEBHOOK_SECRET_KEY: a fixed, public key — the format stays the same,
# the protection does not exist. Production refuses to store secrets without a configured key.
DEVELOPMENT_KEY = hashlib.sha256(b"cleanprod development webhook secret key - not a secret").digest()


class InvalidSecret(ValueError):
    pass


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_…`` secret; InvalidSecret if it is not one."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"a secret starts with {SECRET_PREFIX!r} followed by base64")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret("the part after 'whsec_' must be standard base64") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecret(
            f"the secret must hold {MIN_SECRET_BYTES}–{MAX_SECRET_BYTES} random bytes (it holds {len(key)})"
        )
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret_key(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Webhook-Id": message_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(secret, message_id, timestamp, body),
    }


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class SecretBox:
    """AES-256-GCM for subscription secrets; the first key encrypts, every key decrypts."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys or any(len(k) != 32 for k in keys):
            raise ValueError("SecretBox needs 32-byte keys")
        self._current = keys[0]
        self._by_id = {_key_id(k): k for k in reversed(keys)}
        self._by_id[_key_id(keys[0])] = keys[0]

    @property
    def current_key_id(self) -> str:
        return _key_id(self._current)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._current).encrypt(nonce, plaintext.encode(), context.encode())
        return f"v1.{self.current_key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str, context: str) -> str:
        try:
            version, kid, data = token.split(".", 2)
            if version != "v1":
                raise ValueError
            key = self._by_id[kid]
            raw = base64.urlsafe_b64decode(data.encode("ascii"))
            return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except KeyError:
            raise ValueError("the secret was encrypted with a key this service no longer has") from None
        except (ValueError, InvalidTag, binascii.Error):
            raise ValueError("the stored secret cannot be decrypted (corrupt, or bound to another row)") from None


def box_from_settings(settings: object) -> SecretBox | None:
    """The box for these settings; None when no key is configured outside dev/test."""
    configured = getattr(settings, "webhook_secret_key", None)
    previous = getattr(settings, "webhook_secret_previous_keys", None)
    keys: list[bytes] = []
    if configured is not None:
        keys.append(base64.b64decode(configured.get_secret_value().strip()))
    elif getattr(settings, "is_dev_or_test", False):
        keys.append(DEVELOPMENT_KEY)
    else:
        return None
    if previous is not None:
        keys += [base64.b64decode(k.strip()) for k in previous.get_secret_value().split(",") if k.strip()]
    if configured is not None and getattr(settings, "is_dev_or_test", False):
        keys.append(DEVELOPMENT_KEY)  # rows written before a key was configured in dev stay readable
    return SecretBox(keys)
