"""Accounts: looked up by username or email (case-insensitively), created once."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photon.errors import Conflict
from photon.models import User


def by_identity(session: Session, identity: str) -> User | None:
    """The user whose username or email is ``identity``, ignoring case."""
    identity = identity.strip().lower()
    return session.scalars(
        select(User).where(or_(func.lower(User.username) == identity, User.email == identity))
    ).first()


def create(session: Session, username: str, email: str, password_hash: str) -> User:
    """Insert and commit a user; a taken username or email is a ``Conflict`` naming it."""
    email = email.strip().lower()
    taken = session.scalars(
        select(User).where(or_(func.lower(User.username) == username.lower(), User.email == email))
    ).first()
    if taken:
        field = "email" if taken.email == email else "username"
        raise Conflict(f"That {field} is already registered", errors={field: ["Taken."]})
    user = User(username=username, email=email, password_hash=password_hash)
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        # Another registration took the name between the check and the insert.
        session.rollback()
        raise Conflict("That username or email is already registered") from None
    return user


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)
