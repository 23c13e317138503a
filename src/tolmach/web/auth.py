"""Accounts, sign-ins and API tokens for the web desk.

Passwords are hashed with argon2. A sign-in or API token is a random secret given to the
client once; the database keeps only its sha256, so a copy of the database signs no one in.

    user = add_user(session, "olena", "editor", "a long passphrase", by="admin")
    token, web = sign_in(session, settings, "olena", "a long passphrase", "10.0.0.5")
    who = session_user(session, token)        # (User, WebSession) or None

Changes to accounts (added, disabled, password set, API token made or revoked) are appended
to the custody log, never with a secret in them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tolmach import custody
from tolmach.config import Settings
from tolmach.errors import InputError, NotFoundError
from tolmach.store.desk import ROLES, ApiToken, LoginAttempt, User, WebSession
from tolmach.store.tables import utcnow

_hasher = PasswordHasher()
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
TOKEN_USE_PRECISION = timedelta(minutes=1)  # how exactly a token's last use is kept
MAX_PASSWORD = 1024  # argon2 would take longer; nobody types more


class TooManyAttempts(InputError):
    """Too many failed sign-ins for a name or an address in the login window."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"The password is shorter than {MIN_PASSWORD} characters.",
            "Choose a longer one: a few unrelated words make a good passphrase.",
        )
    if len(password) > MAX_PASSWORD:
        raise InputError(f"The password is longer than {MAX_PASSWORD} characters.")


def add_user(session: Session, name: str, role: str, password: str, by: str = "setup") -> User:
    name = name.strip().lower()
    if not NAME.match(name):
        raise InputError(
            f"{name!r} is not a usable account name.",
            "Use 2-64 lower-case letters, digits, '.', '_' or '-'.",
        )
    if role not in ROLES:
        raise InputError(f"Unknown role {role!r}.", f"Choose one of: {', '.join(ROLES)}.")
    _check_password(password)
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise InputError(f"An account {name!r} exists already.", "Choose another name.")
    user = User(name=name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    custody.append(session, kind="account_added", actor=by, subject=name, detail={"role": role})
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def _end_sessions(session: Session, user: User, keep: str = "") -> None:
    session.execute(
        update(WebSession)
        .where(
            WebSession.user_id == user.id,
            WebSession.revoked_at.is_(None),
            WebSession.token_sha256 != digest(keep),
        )
        .values(revoked_at=utcnow())
    )


def disable_user(session: Session, name: str, by: str) -> User:
    """Disable an account: its sign-ins end and its API tokens stop working."""
    user = get_user(session, name)
    if user.name == by:
        raise InputError("You cannot disable your own account.", "Ask another admin.")
    if not user.disabled:
        user.disabled = True
        _end_sessions(session, user)
        custody.append(session, kind="account_disabled", actor=by, subject=user.name)
    return user


def enable_user(session: Session, name: str, by: str) -> User:
    """Let a disabled account sign in again (with its password; its API tokens work again)."""
    user = get_user(session, name)
    if user.disabled:
        user.disabled = False
        custody.append(session, kind="account_enabled", actor=by, subject=user.name)
    return user


def set_password(session: Session, name: str, password: str, by: str, keep: str = "") -> User:
    """Give an account a new password; its open sign-ins end, but for the one whose cookie
    token is ``keep`` (the user's own, when they change it themselves)."""
    user = get_user(session, name)
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    _end_sessions(session, user, keep)
    custody.append(session, kind="password_set", actor=by, subject=user.name)
    return user


def get_user(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name.strip().lower())).first()
    if user is None:
        raise NotFoundError(f"No account {name!r}.", "Run `tolmach users list` to see them.")
    return user


def _failures(session: Session, settings: Settings, name: str, address: str) -> int:
    since = utcnow() - timedelta(seconds=settings.web_login_window_s)
    by_name = select(func.count()).where(
        LoginAttempt.name == name, LoginAttempt.at >= since, LoginAttempt.ok.is_(False)
    )
    by_addr = select(func.count()).where(
        LoginAttempt.address == address, LoginAttempt.at >= since, LoginAttempt.ok.is_(False)
    )
    return max(session.scalar(by_name) or 0, session.scalar(by_addr) or 0)


def check_password(
    session: Session, settings: Settings, name: str, password: str, address: str
) -> User:
    """The account if ``password`` is its password; every try counts for the rate limit.

    Raises ``TooManyAttempts`` once the name or the address has failed
    ``web_login_attempts`` times in the window (even with the right password), and
    ``InputError`` with one message for a wrong name or a wrong password.
    """
    name = name.strip().lower()[:64]
    password = password[: MAX_PASSWORD + 1]  # too long never matches, and costs no more
    if _failures(session, settings, name, address) >= settings.web_login_attempts:
        raise TooManyAttempts(
            "Too many failed sign-ins.",
            f"Wait {settings.web_login_window_s / 60:.0f} minutes, then try again.",
        )
    user = session.scalars(select(User).where(User.name == name)).first()
    ok = False
    if user is not None and not user.disabled:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # the same work either way: no timing hint that a name exists
    session.add(LoginAttempt(name=name, address=address[:64], ok=ok))
    session.flush()
    if not ok or user is None:
        raise InputError("Wrong name or password.")
    return user


def sign_in(
    session: Session, settings: Settings, name: str, password: str, address: str
) -> tuple[str, WebSession]:
    """Check a name and password (see :func:`check_password`); return the new sign-in's
    cookie token and its session row."""
    user = check_password(session, settings, name, password, address)
    token = secrets.token_urlsafe(32)
    web = WebSession(
        token_sha256=digest(token),
        user_id=user.id,
        csrf=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=settings.web_session_hours),
    )
    session.add(web)
    session.flush()
    return token, web


def session_user(session: Session, token: str) -> tuple[User, WebSession] | None:
    found = session.execute(  # one query: every signed-in request pays for it
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_sha256 == digest(token))
    ).first()
    if found is None:
        return None
    user, web = found.tuple()
    if web.revoked_at is not None or web.expires_at <= utcnow() or user.disabled:
        return None
    return user, web


def sign_out(session: Session, token: str) -> None:
    """Revoke a sign-in: the same cookie replayed later signs no one in."""
    web = session.scalars(
        select(WebSession).where(WebSession.token_sha256 == digest(token))
    ).first()
    if web is not None and web.revoked_at is None:
        web.revoked_at = utcnow()


def new_token(session: Session, user: User, label: str) -> str:
    """A new API token for ``user``; shown once, stored as its sha256."""
    label = label.strip()
    if not label or len(label) > 64:
        raise InputError(
            "An API token needs a label of 1-64 characters.",
            "Name it after the script or machine that will use it.",
        )
    token = "tmk_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=label, token_sha256=digest(token))
    session.add(row)
    session.flush()
    custody.append(
        session, kind="token_created", actor=user.name, subject=user.name,
        detail={"token": row.id, "label": label},
    )  # fmt: skip
    return token


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    q = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.scalars(q))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s own API tokens."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFoundError(f"You have no API token {token_id}.", "See your account page.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        custody.append(
            session, kind="token_revoked", actor=user.name, subject=user.name,
            detail={"token": row.id},
        )  # fmt: skip
    return row


def token_user(session: Session, token: str) -> User | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_PRECISION:
        row.last_used_at = now  # not a database write on every call of a busy script
    return user


def safe_next(target: str, default: str = "/items") -> str:
    """``target`` if it is a path on this desk (one leading "/"), else ``default``: a sign-in
    link must not send anyone to another site ("//evil.example", "/\\evil.example")."""
    local = target.startswith("/") and not target.startswith("//")
    if not local or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    return target
