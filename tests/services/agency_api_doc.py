"""docs/agency-api.yaml, read as the tests read it: the operations, and checks of a real request or answer
against them (bodies with jsonschema, the document's `$ref`s resolved inside it)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator.readers import read_from_filename
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from services.sandbox_kit import SeenRequest

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "agency-api.yaml"
_URI = "urn:superapp:agency-api"


@cache
def spec() -> dict[str, Any]:
    document, _ = read_from_filename(str(DOCUMENT))
    return dict(document)


def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry().with_resource(
        _URI, Resource.from_contents(spec(), default_specification=DRAFT202012))
    return registry


def resolve(node: Any) -> Any:
    """Follow a document-local `$ref` (`#/components/...`) until a node without one."""
    while isinstance(node, dict) and "$ref" in node:
        found: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec()["components"]["schemas"][name]
    return found


def schema_problems(instance: Any, node: Any) -> list[str]:
    """Why `instance` does not fit `node` (a schema of the document, possibly a `$ref`); [] when it does."""
    validator = Draft202012Validator(_absolute(node), registry=_registry(), format_checker=FormatChecker())
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(instance)]


def _absolute(node: Any) -> Any:
    """The node with its document-local `$ref`s pointing into the registered document."""
    if isinstance(node, dict):
        return {k: f"{_URI}{v}" if k == "$ref" and isinstance(v, str) and v.startswith("#")
                else _absolute(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute(v) for v in node]
    return node


def operation(path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = spec()["paths"][path][method.lower()]
    return found


def parameters(path: str, method: str) -> list[dict[str, Any]]:
    item = spec()["paths"][path]
    return [resolve(p) for p in (*item.get("parameters", ()), *operation(path, method).get("parameters", ()))]


def request_schema(path: str, method: str) -> Any:
    body = resolve(operation(path, method)["requestBody"])
    return body["content"]["application/json"]["schema"]


def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)))


def request_problems(seen: SeenRequest, path: str, method: str) -> list[str]:
    """What in a request as the agency received it the document does not allow: method, path, required
    headers and their values, the media type, the body; and a body field the document does not name
    (the document must say everything we send)."""
    problems = []
    if seen.method != method.upper():
        problems.append(f"method {seen.method}")
    if not _template(path).fullmatch(seen.path):
        problems.append(f"path {seen.path} is not {path}")
    headers = {name.lower(): value for name, value in seen.headers.items()}
    for parameter in parameters(path, method):
        if parameter["in"] != "header":
            continue
        value = headers.get(parameter["name"].lower())
        if value is None:
            if parameter.get("required"):
                problems.append(f"header {parameter['name']} missing")
            continue
        problems += [f"header {parameter['name']}: {p}" for p in schema_problems(value, parameter["schema"])]
    if headers.get("content-type", "").split(";")[0] != "application/json":
        problems.append(f"content-type {headers.get('content-type')}")
    body = json.loads(seen.body)
    node = request_schema(path, method)
    problems += schema_problems(body, node)
    undocumented = set(body) - set(resolve(node).get("properties", {}))
    if undocumented:
        problems.append(f"fields the document does not name: {sorted(undocumented)}")
    return problems


def response_problems(path: str, method: str, status: int, body: Any,
                      headers: dict[str, str] | None = None) -> list[str]:
    """What in an answer the document does not allow: a status it does not list, a body or a header that
    does not fit what it says for that status."""
    responses = operation(path, method)["responses"]
    declared = responses.get(str(status)) or responses.get(f"{status // 100}XX")
    if declared is None:
        return [f"status {status} is not documented"]
    response = resolve(declared)
    problems = []
    for name, header in response.get("headers", {}).items():
        value = {k.lower(): v for k, v in (headers or {}).items()}.get(name.lower())
        problems += [f"header {name}: {p}" for p in schema_problems(value, resolve(header)["schema"])]
    content = response.get("content", {}).get("application/json")
    if content is None:
        return problems + ([] if body is None else [f"status {status} documents no body"])
    return problems + schema_problems(body, content["schema"])
