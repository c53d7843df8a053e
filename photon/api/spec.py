"""The OpenAPI spec says every rule the server enforces that JSON Schema can say.

marshmallow describes one field at a time; the rules that tie fields together are written here,
over the component schemas flask-smorest generated: "an action or a symbol_id, not both",
"starting_cash goes with reset", "a username or an email". (Rules no JSON Schema can state, such
as ``start`` before ``end`` or a ticker the provider knows, are in the descriptions, and they
answer 422.)
"""

from __future__ import annotations

from typing import Any

from photon.api.schemas import MAX_ID


def _only(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _action(*names: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(names)}


def refine(schemas: dict[str, dict[str, Any]]) -> None:
    """Rewrite, in place, the component schemas whose fields depend on each other."""
    schemas["DecisionMakerIn"] = {
        "description": "Either an action (turn auto-decide on or off) or a symbol_id (queue one "
        "analysis now), not both.",
        "oneOf": [
            _only({"action": _action("start", "stop")}, ["action"]),
            _only(
                {"symbol_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}, ["symbol_id"]
            ),
        ],
    }
    schemas["ExecutionIn"] = {
        "description": "start or stop; reset, optionally to a new starting_cash; or configure "
        "with the settings to override.",
        "oneOf": [
            _only({"action": _action("start", "stop")}, ["action"]),
            _only(
                {
                    "action": _action("reset"),
                    "starting_cash": {"type": "number", "minimum": 1, "maximum": 1e12},
                },
                ["action"],
            ),
            _only(
                {
                    "action": _action("configure"),
                    "settings": {"$ref": "#/components/schemas/PaperSettings"},
                },
                ["action", "settings"],
            ),
        ],
    }
    login = schemas["Login"]
    login["properties"]["username"].update(minLength=1, maxLength=254)
    login["properties"]["email"] = {"type": "string", "minLength": 1, "maxLength": 254}
    login["anyOf"] = [{"required": ["username"]}, {"required": ["email"]}]
    login["description"] = "A username or an email (either field takes either), and the password."
    password = schemas["Register"]["properties"]["password"]
    password.update(
        minLength=8,
        description="8 to 128 characters, not all letters and not all "
        "digits, not a common password, and not the username",
    )
    schemas["SymbolIn"]["properties"]["symbol"].update(
        minLength=1, maxLength=64, pattern=r"^[^\x00]*\S[^\x00]*$"
    )
    # Logout revokes the login whatever the body; only an object can name a refresh token too.
    schemas["Logout"] = {
        "description": "Optional. An object may name another refresh token of yours to revoke "
        "too; any other body is ignored.",
        "anyOf": [schemas["Logout"], {"not": {"type": "object"}}],
    }
