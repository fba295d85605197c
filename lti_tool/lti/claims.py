"""The claims of an LTI 1.3 launch: their names, and the shapes the tool reads them as.

``check_claims`` runs right after the signature holds; past it, each known claim has its type and ids fit
their columns, so nothing a platform (or a forger with a registered key) sends becomes a 500.
"""
from __future__ import annotations

from typing import Any

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

_Str, _StrList, _Scalar = "string", "list of strings", "scalar"
# claim: (expected shape, longest length or None, sub-fields of an object) — null counts as absent.
# Lengths: the LTI spec caps sub, context and resource link ids at 255 characters (user_account.subject too).
_SHAPES: dict[str, tuple[Any, int | None, dict[str, tuple[Any, int | None]]]] = {
    "iss": (_Str, 255, {}), "sub": (_Str, 255, {}), "azp": (_Str, 255, {}), "nonce": (_Str, 255, {}),
    "given_name": (_Str, None, {}), "family_name": (_Str, None, {}), "locale": (_Str, None, {}),
    "name": (_Str, None, {}), "email": (_Str, None, {}),
    CLAIM + "message_type": (_Str, 100, {}), CLAIM + "version": (_Str, 20, {}),
    CLAIM + "deployment_id": (_Str, 255, {}), CLAIM + "target_link_uri": (_Str, None, {}),
    CLAIM + "roles": (_StrList, None, {}), CLAIM + "role_scope_mentor": (_StrList, None, {}),
    CLAIM + "context": (dict, None, {"id": (_Str, 255), "label": (_Str, None), "title": (_Str, None),
                                     "type": (_StrList, None)}),
    CLAIM + "resource_link": (dict, None, {"id": (_Str, 255), "title": (_Str, None), "description": (_Str, None)}),
    CLAIM + "custom": (dict, None, {}), CLAIM + "launch_presentation": (dict, None, {}),
    CLAIM + "tool_platform": (dict, None, {}), CLAIM + "lis": (dict, None, {}),
    CLAIM_DEEP_LINKING: (dict, None, {"deep_link_return_url": (_Str, None), "accept_types": (_StrList, None),
                                      "accept_presentation_document_targets": (_StrList, None),
                                      "accept_multiple": (_Scalar, None), "title": (_Str, None),
                                      "text": (_Str, None), "data": (_Str, None)}),
    CLAIM_AGS: (dict, None, {"lineitems": (_Str, None), "lineitem": (_Str, None), "scope": (_StrList, None)}),
    CLAIM_NRPS: (dict, None, {"context_memberships_url": (_Str, None)}),
}
NAME_MAX, EMAIL_MAX = 200, 320  # user_account.name and .email


def _fits(value: Any, shape: Any) -> bool:
    if shape is _Str:
        return isinstance(value, str)
    if shape is _StrList:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if shape is _Scalar:
        return isinstance(value, (str, bool, int, float))
    return isinstance(value, shape)


def check_claims(body: dict[str, Any]) -> str | None:
    """What is wrong with a launch's known claims (the wrong type, an over-long id), named without its value,
    or None; afterwards each known claim can be read as its type. ``name`` over 200 characters is cut to 200
    and ``email`` over 320 dropped (a teacher's launch is not refused for them); ``custom`` values must be
    scalars (Canvas sends strings)."""
    for claim, (shape, longest, fields) in _SHAPES.items():
        value = body.get(claim)
        if value is None:
            continue
        if not _fits(value, shape):
            return _malformed(claim, f"expected {'an object' if shape is dict else 'a ' + shape}")
        if longest is not None and len(value) > longest:
            return _malformed(claim, f"longer than {longest} characters")
        for name, (field_shape, field_longest) in fields.items():
            field = value.get(name)
            if field is None:
                continue
            if not _fits(field, field_shape):
                return _malformed(f"{claim}.{name}", f"expected a {field_shape}")
            if field_longest is not None and len(field) > field_longest:
                return _malformed(f"{claim}.{name}", f"longer than {field_longest} characters")
    custom = body.get(CLAIM + "custom") or {}
    if not all(isinstance(v, (str, bool, int, float)) or v is None for v in custom.values()):
        return _malformed(CLAIM + "custom", "its values must be strings")
    if isinstance(body.get("name"), str) and len(body["name"]) > NAME_MAX:
        body["name"] = body["name"][:NAME_MAX]
    if isinstance(body.get("email"), str) and len(body["email"]) > EMAIL_MAX:
        del body["email"]
    return None


def _malformed(claim: str, why: str) -> str:
    return f"The id_token's '{claim}' claim is malformed: {why}."
