"""Moderators and admins: accounts, passwords, dashboard sessions and API tokens."""

import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.db import db, utcnow
from moderation.models import ROLES, ApiToken, User, UserSession
from moderation.services.sites import hash_key

TOKEN_PREFIX = "mt_"
MIN_PASSWORD = 8
# A session's last_seen_at is written at most this often: a dashboard request usually only reads.
SEEN_EVERY = timedelta(minutes=5)
# Compared against when the login is unknown, so a wrong login costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


class UserError(ValueError):
    """A user cannot be created or changed as asked."""


def create_user(login, password, role):
    """Create a moderator or admin with a salted password hash."""
    login = (login or "").strip()
    if not login or len(login) > 64:
        raise UserError("the login must be 1 to 64 characters")
    if role not in ROLES:
        raise UserError(f"the role must be one of {', '.join(ROLES)}")
    check_password(password)
    if find_user(login) is not None:
        raise UserError(f"a user {login!r} exists already")
    user = User(login=login, password_hash=generate_password_hash(password), role=role)
    db.session.add(user)
    db.session.commit()
    return user


def create_first_admin(login="admin"):
    """On an install with no users yet, create an admin with a random password; return (login, password) or None."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    password = secrets.token_urlsafe(12)
    create_user(login, password, "admin")
    return login, password


def check_password(password):
    """Refuse passwords too short to resist guessing."""
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")


def set_password(user, password):
    """Replace a user's password and end every session signed in with the old one."""
    check_password(password)
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    db.session.commit()


def set_active(user, active):
    """Enable or disable a user; disabling ends their sessions, so enabling them again revives none (no commit)."""
    user.active = active
    if not active:
        end_sessions(user)


def find_user(login):
    """The user with this login (case-insensitive), or None."""
    if not login:
        return None
    return db.session.scalar(select(User).where(func.lower(User.login) == login.strip().lower()))


def authenticate(login, password):
    """The active user with this login and password, or None; takes as long whether or not the login exists."""
    user = find_user(login)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def start_session(user, idle_limit):
    """Open a dashboard session for the user; return its id for the signed cookie (only its hash is stored).

    Sessions idle longer than idle_limit (a timedelta), ended or not, are deleted on the way.
    """
    now = utcnow()
    db.session.execute(delete(UserSession).where(UserSession.last_seen_at < now - idle_limit))
    session_id = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=hash_key(session_id), created_at=now, last_seen_at=now))
    db.session.commit()
    return session_id


def user_for_session(session_id, user_id, idle_limit):
    """The active user of this open session (one indexed query), or None; notes the visit every few minutes."""
    if not session_id or not isinstance(session_id, str) or len(session_id) > 100 or user_id is None:
        return None
    found = db.session.execute(
        select(UserSession, User)
        .join(UserSession.user)
        .where(UserSession.token_hash == hash_key(session_id), UserSession.ended_at.is_(None))
    ).first()
    if found is None:
        return None
    user_session, user = found
    now = utcnow()
    if user.id != user_id or not user.active or user_session.last_seen_at < now - idle_limit:
        return None
    if user_session.last_seen_at < now - SEEN_EVERY:
        user_session.last_seen_at = now
        db.session.commit()
    return user


def end_session(session_id):
    """End one dashboard session (signing out); the cookie that names it is refused from now on."""
    if session_id and isinstance(session_id, str):
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == hash_key(session_id), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        db.session.commit()


def end_sessions(user):
    """End every open dashboard session of the user (no commit: it goes with the change that asks for it)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def issue_token(user):
    """Give the user a new API token; return it (shown once, only its hash is kept)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, prefix=token[:10], token_hash=hash_key(token)))
    db.session.commit()
    return token


def revoke_tokens(user):
    """Revoke every API token of the user; return how many were active."""
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))).all()
    for api_token in tokens:
        api_token.revoked = True
    db.session.commit()
    return len(tokens)


def user_for_token(token):
    """The active user owning this unrevoked token, or None."""
    if not token or len(token) > 200 or not token.startswith(TOKEN_PREFIX):
        return None
    api_token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_key(token), ApiToken.revoked.is_(False))
    )
    if api_token is None or not api_token.user.active:
        return None
    api_token.last_used_at = utcnow()
    db.session.commit()
    return api_token.user
