"""Account services: creating users, authenticating with argon2, login rate limiting, principals.

Rules:
* passwords are stored only as argon2id hashes, and must be at least 8 characters;
* after ``login_max_failures`` failed attempts for the same username, or from the same client,
  within ``login_window_seconds``, further attempts are refused until the window has passed —
  also with the right password;
* every account change is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shengxin.accounts.models import LoginAttempt, User
from shengxin.accounts.roles import DISTRICT_WIDE_ROLES, ROLE_LABELS, Role
from shengxin.audit.service import Actor, record
from shengxin.db import utcnow
from shengxin.enterprises import uscc as uscc_rules
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from shengxin.reference.district import District

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class Principal:
    """The logged-in user as the rest of the platform sees it (never the ORM row)."""

    id: int
    username: str
    display_name: str
    role: Role
    uscc: str | None = None
    town_code: str | None = None
    department_code: str | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role.value)

    def can_see_town(self, town_code: str | None) -> bool:
        """District-wide roles see every town; town staff see their own town only."""
        if self.role in DISTRICT_WIDE_ROLES:
            return True
        return self.role is Role.TOWN and town_code is not None and town_code == self.town_code

    def can_see_enterprise(self, uscc: str, town_code: str | None) -> bool:
        """An enterprise sees itself; town staff their town's enterprises; district roles all."""
        if self.role is Role.ENTERPRISE:
            return self.uscc == uscc
        return self.can_see_town(town_code)


@dataclass(frozen=True)
class UserCreate:
    username: str
    password: str
    display_name: str
    role: Role
    uscc: str | None = None
    town_code: str | None = None
    department_code: str | None = None


def _principal(user: User) -> Principal:
    return Principal(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        uscc=user.uscc,
        town_code=user.town_code,
        department_code=user.department_code,
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def validate_new_user(data: UserCreate, district: District) -> UserCreate:
    """Check a new user's fields; the scope column its role needs must be present and real."""
    username = data.username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInput("username must be 1-64 characters without spaces", where="username")
    if len(data.password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters", where="password")
    uscc = town = dept = None
    if data.role is Role.ENTERPRISE:
        if not data.uscc:
            raise InvalidInput("an enterprise user needs the enterprise's USCC", where="uscc")
        result = uscc_rules.check(data.uscc)
        if result.severity == "error":
            raise InvalidInput(f"USCC {result.code}: {result.reason}", where="uscc")
        uscc = result.code
    elif data.role is Role.TOWN:
        if not data.town_code or district.town(data.town_code) is None:
            known = ", ".join(f"{t.code} {t.name}" for t in district.towns)
            raise InvalidInput(f"town staff need a town code of {district.name}: {known}", where="town_code")
        town = data.town_code
    elif data.role is Role.DEPARTMENT:
        if not data.department_code or district.department(data.department_code) is None:
            known = ", ".join(f"{d.code} {d.name}" for d in district.departments)
            raise InvalidInput(f"department staff need a department code: {known}", where="department_code")
        dept = data.department_code
    return UserCreate(username, data.password, data.display_name.strip() or username, data.role, uscc, town, dept)


def create_user(session: Session, data: UserCreate, district: District, actor: Actor) -> Principal:
    """Create an account (password hashed with argon2) and audit it."""
    data = validate_new_user(data, district)
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"username {data.username!r} already exists", where="username")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        role=data.role.value,
        uscc=data.uscc,
        town_code=data.town_code,
        department_code=data.department_code,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user", data.username,
           {"role": data.role.value, "uscc": data.uscc, "town_code": data.town_code,
            "department_code": data.department_code})
    return _principal(user)


def set_password(session: Session, username: str, password: str, actor: Actor) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters", where="password")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    user.password_hash = hash_password(password)
    record(session, actor, "user.set_password", "user", username)


def set_active(session: Session, username: str, active: bool, actor: Actor) -> None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    user.active = active
    record(session, actor, "user.activate" if active else "user.deactivate", "user", username)


def get_principal(session: Session, user_id: int) -> Principal | None:
    """The active user with this id, or ``None`` (a deactivated user's session ends)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return _principal(user)


def list_users(session: Session) -> list[Principal]:
    return [_principal(u) for u in session.scalars(select(User).order_by(User.role, User.username))]


def _recent_failures(session: Session, column, value: str, window: timedelta) -> int:
    since = utcnow() - window
    return session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since
        )
    ) or 0


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    client: str,
    max_failures: int,
    window_seconds: int,
) -> Principal:
    """Check a username and password, enforcing the rate limit; records the attempt.

    Raises :class:`Forbidden` when rate-limited and :class:`Unauthenticated` on wrong credentials
    (the same message whether the user exists or not).
    """
    username = username.strip()
    window = timedelta(seconds=window_seconds)
    if (
        _recent_failures(session, LoginAttempt.username, username, window) >= max_failures
        or _recent_failures(session, LoginAttempt.client, client, window) >= max_failures
    ):
        raise Forbidden(f"登录失败次数过多，请 {window_seconds // 60} 分钟后再试")
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and user.active:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        # Spend comparable time for unknown users so timing does not reveal which exist.
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
    session.add(LoginAttempt(username=username[:64], client=client[:64], succeeded=ok))
    if not ok:
        session.flush()
        raise Unauthenticated("用户名或密码错误")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record(session, Actor(user.username, user.role, client), "user.login", "user", user.username)
    return _principal(user)


_DUMMY_HASH = _hasher.hash("not-a-real-password-0")
