"""API keys of systems that push appeals through the Open311 API.

Rules:
* a key is 256 random bits, shown once at creation; only its SHA-256 is stored (a fast hash is
  enough for a random key of this length — there is nothing to brute-force as with passwords);
* a revoked key stops working at once; each submission updates ``last_used_at`` (at most once a
  minute, inside the submission's own transaction: checking a key never writes);
* creating and revoking keys is audited; only the district admin manages keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.appeals.deadlines import aware
from shengxin.appeals.models import Open311ApiKey
from shengxin.audit.service import Actor, record
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated

KEY_PREFIX = "sx_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKeyPublic:
    id: int
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "prefix": self.prefix, "created_by": self.created_by,
                "created_at": self.created_at, "revoked_at": self.revoked_at, "last_used_at": self.last_used_at}


def _public(r: Open311ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(r.id, r.name, r.key_prefix, r.created_by, aware(r.created_at), aware(r.revoked_at),
                        aware(r.last_used_at))


def create_key(session: Session, name: str, actor: Actor) -> tuple[str, ApiKeyPublic]:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("key name must be 1-100 characters (which system uses it)", where="name")
    if session.scalar(select(Open311ApiKey.id).where(Open311ApiKey.name == name)) is not None:
        raise Conflict(f"a key named {name!r} exists; revoke it or choose another name", where="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = Open311ApiKey(name=name, key_prefix=key[:10], key_hash=hash_key(key), created_by=actor.name)
    session.add(row)
    session.flush()
    record(session, actor, "open311.key.create", "open311_api_key", name, {"prefix": row.key_prefix})
    return key, _public(row)


def list_keys(session: Session) -> list[ApiKeyPublic]:
    return [_public(r) for r in session.scalars(select(Open311ApiKey).order_by(Open311ApiKey.id))]


def revoke_key(session: Session, name: str, actor: Actor) -> None:
    row = session.scalar(select(Open311ApiKey).where(Open311ApiKey.name == name))
    if row is None:
        raise NotFound(f"no API key named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(timezone.utc)
        record(session, actor, "open311.key.revoke", "open311_api_key", name, {"prefix": row.key_prefix})


def verify_key(session: Session, key: str | None) -> Open311ApiKey:
    """The key's row, or an error: missing key → Unauthenticated, unknown or revoked → Forbidden."""
    if not key:
        raise Unauthenticated("api_key is required", where="api_key")
    row = session.scalar(select(Open311ApiKey).where(Open311ApiKey.key_hash == hash_key(key)))
    if row is None or not hmac.compare_digest(row.key_hash, hash_key(key)):
        raise Forbidden("api_key is not valid", where="api_key")
    if row.revoked_at is not None:
        raise Forbidden("api_key has been revoked", where="api_key")
    return row


def touch_key(session: Session, row: Open311ApiKey) -> None:
    """Record a submission with the key (at most once a minute). Called inside the submission's
    write transaction, so that checking a key stays a pure read."""
    now = datetime.now(timezone.utc)
    last = aware(row.last_used_at)
    if last is None or now - last > timedelta(minutes=1):
        row.last_used_at = now
        session.flush()
