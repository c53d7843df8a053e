"""/api/auth: register, login, refresh, me, logout."""

from __future__ import annotations

import re

from flask.views import MethodView
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    current_user,
    decode_token,
    jwt_required,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_smorest import Blueprint
from jwt import PyJWTError
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from photon import security
from photon.errors import Conflict, Unauthorized
from photon.extensions import db
from photon.models import User

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
COMMON_PASSWORDS = frozenset(
    "password password1 password123 12345678 123456789 1234567890 qwerty123 qwertyuiop "
    "iloveyou1 letmein1 welcome1 admin123 abc12345 11111111 00000000 passw0rd".split()
)


class RegisterSchema(Schema):
    username = fields.String(required=True, validate=validate.Regexp(
        USERNAME, error="3-32 characters: letters, digits, _ . -"))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))

    @validates("password")
    def _strong(self, value: str, **_kwargs) -> None:
        problems = []
        if len(value) < 8:
            problems.append("At least 8 characters.")
        if value.lower() in COMMON_PASSWORDS:
            problems.append("Too common.")
        if value.isdigit() or value.isalpha():
            problems.append("Mix letters with digits or symbols.")
        if problems:
            raise ValidationError(problems)

    @validates_schema
    def _not_username(self, data: dict, **_kwargs) -> None:
        if data.get("password", "").lower() == data.get("username", "").lower():
            raise ValidationError("Must differ from the username.", "password")


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String()
    email = fields.Email()
    created_at = fields.DateTime()


class LoginSchema(Schema):
    username = fields.String(metadata={"description": "Username or email"})
    email = fields.String()
    password = fields.String(required=True, load_only=True)

    @validates_schema
    def _one_identity(self, data: dict, **_kwargs) -> None:
        if not (data.get("username") or data.get("email")):
            raise ValidationError("Give a username or an email.", "username")


class TokensSchema(Schema):
    access = fields.String()
    refresh = fields.String()


class RefreshSchema(Schema):
    refresh = fields.String(required=True)


class AccessSchema(Schema):
    access = fields.String()


class LogoutSchema(Schema):
    refresh = fields.String(metadata={"description": "Also revoke this refresh token"})


def _issue_tokens(user: User) -> dict[str, str]:
    refresh = create_refresh_token(identity=str(user.id))
    refresh_jti = decode_token(refresh)["jti"]
    access = create_access_token(identity=str(user.id), additional_claims={"rjti": refresh_jti})
    return {"access": access, "refresh": refresh}


@blp.route("/register/")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict):
        """Create an account"""
        email = data["email"].strip().lower()
        taken = db.session.scalars(
            select(User).where(
                or_(func.lower(User.username) == data["username"].lower(), User.email == email)
            )
        ).first()
        if taken:
            field = "email" if taken.email == email else "username"
            raise Conflict(f"That {field} is already registered", errors={field: ["Taken."]})
        user = User(
            username=data["username"], email=email,
            password_hash=security.hash_password(data["password"]),
        )
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            # Another registration took the name between the check and the insert.
            db.session.rollback()
            raise Conflict("That username or email is already registered") from None
        return user


@blp.route("/login/")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokensSchema)
    def post(self, data: dict):
        """Exchange credentials for an access and a refresh token"""
        identity = (data.get("username") or data.get("email") or "").strip()
        user = db.session.scalars(
            select(User).where(
                or_(func.lower(User.username) == identity.lower(), User.email == identity.lower())
            )
        ).first()
        if user is None or not security.verify_password(user, data["password"]):
            raise Unauthorized("Wrong username, email or password")
        db.session.commit()  # verify_password may have upgraded the hash
        return _issue_tokens(user)


@blp.route("/refresh/")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, AccessSchema)
    def post(self, data: dict):
        """Exchange a refresh token for a new access token"""
        claims = security.verify(data["refresh"], "refresh")
        access = create_access_token(
            identity=claims["sub"], additional_claims={"rjti": claims["jti"]}
        )
        return {"access": access}


@blp.route("/me/")
class Me(MethodView):
    @jwt_required()
    @blp.response(200, UserSchema)
    def get(self):
        """Your profile"""
        return current_user


@blp.route("/logout/")
class Logout(MethodView):
    @jwt_required()
    @blp.arguments(LogoutSchema, required=False)
    @blp.response(204)
    def post(self, data: dict | None):
        """Revoke the access token and the refresh token of this login"""
        refresh_jti = None
        if data and data.get("refresh"):
            try:
                claims = decode_token(data["refresh"], allow_expired=True)
            except (PyJWTError, JWTExtendedException) as exc:
                raise Unauthorized(f"Invalid refresh token: {exc}") from None
            if claims.get("type") != "refresh" or claims["sub"] != str(current_user.id):
                raise Unauthorized("That is not your refresh token")
            refresh_jti = claims["jti"]
        security.revoke_current(refresh_jti)
