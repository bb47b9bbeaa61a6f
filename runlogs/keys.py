"""The key that seals the log's lines: from ``INBOX_AGENT_LOG_KEY``, else a key file.

Each line's hash is an HMAC-SHA256 under this key, so a line (or a whole chain) cannot
be rewritten consistently by someone who can change the log files but cannot read the
key. The key comes from the environment variable :data:`LOG_KEY_ENV` (any text of at
least 16 bytes), else from a key file outside the logs folder (default
``<logs_dir>/../keys/log.key``, i.e. ``<home>/keys/log.key``: 32 random bytes as hex,
mode 0600 in a 0700 folder). Writers create the key file on first use when neither
exists; verify never creates one.

A key is known by its id, the first 8 hex digits of an HMAC of a fixed text under it:
stored in every keyed line, it tells "sealed with another key" from "edited" without
revealing anything about the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from runlogs.errors import RunLogError
from runlogs.files import fsync_dir

LOG_KEY_ENV = "INBOX_AGENT_LOG_KEY"
KEY_DIR_MODE = 0o700
KEY_FILE_MODE = 0o600
MIN_KEY_BYTES = 16
_ID_TEXT = b"inbox-agent activity log key id"


@dataclass(frozen=True)
class LogKey:
    """A secret and where it came from (``source``: the variable's name or the file)."""

    secret: bytes = field(repr=False)
    source: str

    @cached_property
    def id(self) -> str:
        return hmac.new(self.secret, _ID_TEXT, hashlib.sha256).hexdigest()[:8]

    def mac(self, data: bytes) -> str:
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


def default_key_file(logs_dir: Path) -> Path:
    """``<home>/keys/log.key`` for the logs folder ``<home>/logs``."""
    return Path(logs_dir).absolute().parent / "keys" / "log.key"


def _check_outside(key_file: Path, logs_dir: Path | None) -> None:
    if logs_dir is None:
        return
    logs = Path(logs_dir).absolute()
    if key_file.absolute() == logs or logs in key_file.absolute().parents:
        raise RunLogError(
            f"the log key file {key_file} is inside the logs folder {logs}: "
            "whoever can change the logs could read it there"
        )


def _parse(raw: bytes, source: str) -> LogKey:
    text = raw.strip()
    try:
        secret = bytes.fromhex(text.decode("ascii")) if len(text) >= 32 else text
    except (UnicodeDecodeError, ValueError):
        secret = text
    if len(secret) < MIN_KEY_BYTES:
        raise RunLogError(
            f"the log key in {source} is too short ({len(secret)} bytes; use at least "
            f"{MIN_KEY_BYTES}, e.g. `openssl rand -hex 32`)"
        )
    return LogKey(secret, source)


def read_key_file(path: Path) -> LogKey | None:
    """The key in ``path``; None when the file does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RunLogError(f"cannot read the log key file {path}: {exc.strerror}") from exc
    return _parse(raw, str(path))


def create_key_file(path: Path) -> tuple[LogKey, bool]:
    """The key in ``path``, generating it first if missing; (key, whether it was created).

    Safe against a concurrent creator: the key is written to a private temporary file
    and linked into place, so a reader never sees a half-written key and two creators
    end up with one key.
    """
    existing = read_key_file(path)
    if existing is not None:
        return existing, False
    try:
        path.parent.mkdir(mode=KEY_DIR_MODE, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        try:
            os.write(fd, secrets.token_hex(32).encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
            created = True
        except FileExistsError:
            created = False  # someone else was first: use theirs
        finally:
            os.unlink(tmp)
        fsync_dir(path.parent)
    except OSError as exc:
        raise RunLogError(f"cannot create the log key file {path}: {exc.strerror}") from exc
    key = read_key_file(path)
    assert key is not None
    return key, created


def load_key(
    key_file: Path,
    *,
    create: bool,
    logs_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> LogKey | None:
    """The key to seal and check lines with: the environment's, else the key file's.

    With ``create`` a missing key file is generated; without it (verify) a missing key
    is None.
    """
    env = os.environ if environ is None else environ
    value = env.get(LOG_KEY_ENV)
    if value:
        return _parse(value.encode("utf-8"), LOG_KEY_ENV)
    _check_outside(key_file, logs_dir)
    if create:
        return create_key_file(key_file)[0]
    return read_key_file(key_file)
