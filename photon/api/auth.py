"""/api/auth: register, login, refresh, me, logout."""

from __future__ import annotations

import re

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from photon import security
from photon.api.blueprint import Blueprint
from photon.config import Settings
from photon.extensions import limiter
from photon.models import User
from photon.realtime import presence

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
COMMON_PASSWORDS = frozenset(
    "password password1 password123 12345678 123456789 1234567890 qwerty123 qwertyuiop "
    "iloveyou1 letmein1 welcome1 admin123 abc12345 11111111 00000000 passw0rd".split()
)


class RegisterSchema(Schema):
    username = fields.String(
        required=True,
        validate=validate.Regexp(USERNAME, error="3-32 characters: letters, digits, _ . -"),
    )
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


# An identity is looked up in the database, and PostgreSQL text cannot hold a NUL character.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="No NUL (0x00) characters.")


class LoginSchema(Schema):
    username = fields.String(validate=NO_NUL, metadata={"description": "Username or email"})
    email = fields.String(validate=NO_NUL)
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


class LogoutSchema(Schema):
    refresh = fields.String(metadata={"description": "Also revoke this refresh token"})

    @pre_load
    def _object_or_nothing(self, data: object, **_kwargs) -> object:
        # A body that is not an object carries no refresh token: log out all the same, rather
        # than answer 422 and leave the token valid.
        return data if isinstance(data, dict) else {}


def _settings() -> Settings:
    return current_app.config["PHOTON"]


def _identity() -> str:
    """The username or email a login names: failed logins are counted per account too."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    name = body.get("username") or body.get("email") or ""
    return "account:" + (name.strip().lower()[:254] if isinstance(name, str) else "")


@blp.route("/register/")
class Register(MethodView):
    decorators = [limiter.limit(lambda: _settings().register_rate_limit)]

    @blp.doc(security=[])
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict) -> User:
        """Create an account"""
        return security.register(data["username"], data["email"], data["password"])


@blp.route("/login/")
class Login(MethodView):
    decorators = [
        limiter.limit(lambda: _settings().login_rate_limit),
        limiter.limit(
            lambda: _settings().login_failure_limit,
            key_func=_identity,
            deduct_when=lambda response: response.status_code == 401,
        ),
    ]

    @blp.doc(security=[])
    @blp.arguments(LoginSchema)
    @blp.response(200, TokensSchema)
    def post(self, data: dict) -> dict[str, str]:
        """Exchange credentials for an access and a refresh token"""
        return security.login(data.get("username") or data.get("email") or "", data["password"])


@blp.route("/refresh/")
class Refresh(MethodView):
    @blp.doc(security=[])
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokensSchema)
    def post(self, data: dict) -> dict[str, str]:
        """Exchange a refresh token for a new access and refresh token; the old one is used up,
        and presenting it again revokes the whole login"""
        return presence.refresh(data["refresh"])


@blp.route("/me/")
class Me(MethodView):
    @jwt_required()
    @blp.response(200, UserSchema)
    def get(self) -> User:
        """Your profile"""
        return current_user


@blp.route("/logout/")
class Logout(MethodView):
    @jwt_required()
    @blp.arguments(LogoutSchema, required=False)
    @blp.response(204)
    def post(self, data: dict | None) -> None:
        """Revoke the access token and the refresh token of this login"""
        presence.logout(current_user.id, (data or {}).get("refresh"))
