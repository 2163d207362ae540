"""Credentials kept at rest (an assistant's MCP servers' headers and tokens), sealed: AES-256-GCM
under a key of their own, bound to what they belong to (the encryption context: the brand, the
assistant, the server label), so a sealed value copied elsewhere does not open.

In AWS the key is a data key from KMS (envelope encryption: GenerateDataKey under
SECRETS_KMS_KEY_ID, the data key stored encrypted beside the ciphertext, opened with Decrypt and
the same context); under `make dev`, a local key in a file under `.local/` (LOCAL_SECRETS_KEY_FILE).
A sealed value never leaves Parley, and neither it nor what it holds is logged."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KMS_PREFIX = "kms1:"
LOCAL_PREFIX = "local1:"


class SealBroken(Exception):
    """A sealed value that does not open: another context, another key, or altered."""


class Sealer(Protocol):
    def seal(self, plaintext: bytes, context: dict[str, str]) -> str: ...

    def open(self, sealed: str, context: dict[str, str]) -> bytes: ...


def _aad(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class KmsSealer:
    """Envelope encryption with a KMS key: one data key per sealed value."""

    def __init__(self, key_id: str, client: Any) -> None:  # a boto3 KMS client
        self.key_id, self.client = key_id, client

    def seal(self, plaintext: bytes, context: dict[str, str]) -> str:
        data_key = self.client.generate_data_key(
            KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context
        )
        nonce = os.urandom(12)
        ciphertext = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, _aad(context))
        body = {"k": _b64(data_key["CiphertextBlob"]), "n": _b64(nonce), "c": _b64(ciphertext)}
        return KMS_PREFIX + json.dumps(body, separators=(",", ":"))

    def open(self, sealed: str, context: dict[str, str]) -> bytes:
        if not sealed.startswith(KMS_PREFIX):
            raise SealBroken("not sealed with KMS")
        try:
            body = json.loads(sealed.removeprefix(KMS_PREFIX))
            key = self.client.decrypt(
                CiphertextBlob=base64.b64decode(body["k"]), EncryptionContext=context, KeyId=self.key_id
            )["Plaintext"]
            return AESGCM(key).decrypt(
                base64.b64decode(body["n"]), base64.b64decode(body["c"]), _aad(context)
            )
        except SealBroken:
            raise
        except Exception as failure:  # InvalidCiphertextException, InvalidTag, a malformed value
            raise SealBroken(type(failure).__name__) from None


class LocalKeySealer:
    """A key in a file, made on first use (readable by its owner only): for `make dev`."""

    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file

    def _key(self) -> bytes:
        if not self.key_file.exists():
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(AESGCM.generate_key(bit_length=256))
        return self.key_file.read_bytes()

    def seal(self, plaintext: bytes, context: dict[str, str]) -> str:
        nonce = os.urandom(12)
        ciphertext = AESGCM(self._key()).encrypt(nonce, plaintext, _aad(context))
        return LOCAL_PREFIX + _b64(nonce + ciphertext)

    def open(self, sealed: str, context: dict[str, str]) -> bytes:
        if not sealed.startswith(LOCAL_PREFIX):
            raise SealBroken("not sealed with the local key")
        try:
            raw = base64.b64decode(sealed.removeprefix(LOCAL_PREFIX))
            return AESGCM(self._key()).decrypt(raw[:12], raw[12:], _aad(context))
        except Exception as failure:
            raise SealBroken(type(failure).__name__) from None


def seal_json(sealer: Sealer, value: Any, context: dict[str, str]) -> str:
    return sealer.seal(json.dumps(value, separators=(",", ":")).encode(), context)


def open_json(sealer: Sealer, sealed: str, context: dict[str, str]) -> Any:
    return json.loads(sealer.open(sealed, context))
