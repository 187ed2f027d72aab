"""API keys of systems that push appeals through the Open311 API.

Rules:
* a key is 256 random bits, shown once at creation; only its SHA-256 is stored (a fast hash is
  enough for a random key of this length — there is nothing to brute-force as with passwords);
* a revoked key stops working at once: reads check the key in the store on every request; a
  submission may be authenticated from the keys recently verified (:class:`KnownKeys`), and its
  write transaction then checks that the key is still not revoked;
* each submission updates ``last_used_at`` (at most once a minute, inside the submission's own
  transaction: checking a key never writes);
* creating and revoking keys is audited; only the district admin manages keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
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


def touch_keys(session: Session, key_ids: set[int]) -> None:
    """Record a submission with these keys: ``last_used_at``, updated at most once a minute, in the
    submission's own write transaction (checking a key never writes)."""
    now = datetime.now(timezone.utc)
    session.execute(update(Open311ApiKey)
                    .where(Open311ApiKey.id.in_(key_ids),
                           Open311ApiKey.last_used_at.is_(None) | (Open311ApiKey.last_used_at < now - timedelta(minutes=1)))
                    .values(last_used_at=now))


def refused_keys(session: Session, key_ids: set[int]) -> dict[int, str]:
    """Keys among ``key_ids`` that may not submit now (revoked, or gone), with the reason."""
    if not key_ids:
        return {}
    found = dict(session.execute(select(Open311ApiKey.id, Open311ApiKey.revoked_at)
                                 .where(Open311ApiKey.id.in_(key_ids))).all())
    return {k: ("api_key has been revoked" if found.get(k) is not None else "api_key is not valid")
            for k in key_ids if k not in found or found[k] is not None}


class KnownKeys:
    """Keys already verified against the store, remembered by their SHA-256 for
    :data:`KNOWN_KEY_SECONDS`, so that a submission does not need its own database round trip to
    authenticate. Only for submissions: the write transaction checks again that the key is not
    revoked (:func:`refused_keys`), so revocation still takes effect at once. Unknown keys are
    never remembered: a wrong key always goes to the store."""

    def __init__(self, ttl: float = 300.0):
        self._ttl = ttl
        self._known: dict[str, tuple[float, int, str]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str | None) -> tuple[int, str] | None:
        """``(id, name)`` of a key verified less than the TTL ago, else ``None``."""
        if not key:
            return None
        with self._lock:
            hit = self._known.get(hash_key(key))
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1], hit[2]
        return None

    def verify(self, session_factory, key: str | None) -> tuple[int, str]:
        """``(id, name)`` of a valid key (from memory, or checked in the store and remembered), or
        the error of :func:`verify_key`."""
        hit = self.cached(key)
        if hit is not None:
            return hit
        digest = hash_key(key or "")
        now = time.monotonic()
        with session_factory() as session:
            row = verify_key(session, key)
            found = (row.id, row.name)
        with self._lock:
            self._known[digest] = (now, *found)
        return found
