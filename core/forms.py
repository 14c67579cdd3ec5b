"""E-forms: put together what the citizen sent, pre-fill from their profile, validate.

A property may carry `x-prefill` naming a profile field (`core.citizens.profile_of`). Fields marked
`readOnly` (the applicant's identity) are set by the server only: from the profile, or, when the profile
does not know them, kept from what the server stored before; whatever the app sends for them is dropped.
Other pre-filled fields are only filled when the citizen left them out.

`complete_form` is the one way form data is merged (a submission, each part of an interconnected one, a
supplement over GraphQL or sync): it re-applies pre-fill after the merge, so no path can overwrite identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.citizens import Profile, known
from core.errors import DomainError, FieldError
from core.form_limits import check_form_size
from core.form_validation import validate_form

__all__ = ["complete_form", "prefill", "prefill_sources", "read_only_fields", "validate_form"]


def _prefilled(schema: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
    """Field name -> (profile field, read-only) for every top-level property with `x-prefill`."""
    found: dict[str, tuple[str, bool]] = {}
    properties = schema.get("properties", {})
    for name, prop in (properties.items() if isinstance(properties, Mapping) else ()):
        source = prop.get("x-prefill") if isinstance(prop, Mapping) else None
        if isinstance(source, str):
            found[str(name)] = (source, bool(prop.get("readOnly")))
    return found


def prefill_sources(schema: Mapping[str, Any]) -> frozenset[str]:
    """The profile fields the form pre-fills: the only gaps worth asking an agency about."""
    return frozenset(source for source, _ in _prefilled(schema).values())


def read_only_fields(schema: Mapping[str, Any]) -> frozenset[str]:
    """The top-level fields marked `readOnly`: the citizen cannot set them (pre-filled or not)."""
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        return frozenset()
    return frozenset(str(name) for name, prop in properties.items()
                     if isinstance(prop, Mapping) and prop.get("readOnly") is True)


def prefill(schema: Mapping[str, Any], form: Mapping[str, Any], profile: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `form` with the profile's known values put where the schema asks for them."""
    result = dict(form)
    for name, (source, read_only) in _prefilled(schema).items():
        value = profile.get(source)
        if known(value) and (read_only or name not in result):
            result[name] = value
    return result


def _unknown_identity(schema: Mapping[str, Any], form: Mapping[str, Any], profile: Profile) -> list[FieldError]:
    """A read-only field left empty because the agency that vouches for it did not answer: say so
    (AGENCY_UNAVAILABLE / AGENCY_TIMEOUT, retry later) rather than REQUIRED for a field nobody can type."""
    errors = []
    for name, (source, read_only) in _prefilled(schema).items():
        failure = profile.unavailable.get(source)
        if read_only and failure is not None and not known(form.get(name)):
            errors.append(FieldError(code=failure.code, field=f"formData.{name}", message_vi=failure.message_vi,
                                     message_en=failure.message_en))
    return errors


def complete_form(schema: Mapping[str, Any], *, stored: Mapping[str, Any], changes: Mapping[str, Any],
                  profile: Profile) -> dict[str, Any]:
    """`changes` (from the app) over `stored` (the server's: empty for a submission, the dossier's form
    for a supplement), read-only fields dropped from `changes`, pre-filled again, validated. Returns the
    form to store; raises one DomainError with every field error."""
    check_form_size(changes)
    read_only = read_only_fields(schema)
    merged = {**stored, **{name: value for name, value in changes.items() if name not in read_only}}
    form = prefill(schema, merged, profile.values)
    unknown = _unknown_identity(schema, form, profile)
    if unknown:
        raise DomainError.from_fields(unknown)
    validate_form(schema, form)
    return form
