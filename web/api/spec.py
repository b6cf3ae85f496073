"""Declare an API operation once: it is validated, serialised and documented from that.

    @api_route(bp, "/products/<int:product_id>", "PATCH", body=ProductPatch,
               response=ProductOut, summary="Edit a product", tag="catalogue")
    def edit_product(product_id: int, body: ProductPatch) -> ProductOut: ...

The body (JSON) and query string are parsed into pydantic models before the view
runs: malformed JSON is a 400, a value that breaks the schema a 422 with the
field at fault. The view returns a pydantic model (or a list of them) and an
optional status; `build_openapi()` turns every declaration into OpenAPI 3.1.

Why our own and not APIFlask, flask-openapi3 or spectree: each of them would do the
parsing and the document, but not the rest this decorator does in the same place —
the caller level checked before the view (`auth=`, with the staff check every staff
operation needs), the refusal of NUL bytes and over-deep JSON before validation, and
the API's one error body; APIFlask validates with marshmallow where our models are
pydantic, and flask-openapi3 and spectree each bring their own error shape and view
signature. Adopting one would rewrite every route for the same behaviour. What a
library would guarantee we check instead: component names are unique (below), the
fuzz run checks every response against the document, and a client generated from
the document makes real calls (tests/test_api_client.py).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args, get_origin

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from sessions.access import check_signed_in_staff
from sessions.errors import N_, DomainError, InvalidInput
from sessions.jsondepth import nests_deeper_than
from web.identity import current_actor
from web.input_guard import refuse_nul, strings_in

F = TypeVar("F", bound=Callable[..., Any])


class BadJSON(DomainError):
    status = 400
    code = "bad_json"


@dataclass
class Operation:
    rule: str
    method: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    auth: str
    example: dict[str, Any] | None = None
    errors: tuple[int, ...] = field(default=())
    # Documented here but parsed by the view itself (a signed webhook checks the raw body first).
    doc_body: type[BaseModel] | None = None


OPERATIONS: list[Operation] = []
STAFF_LEVELS = {"staff", "brand_admin", "host"}

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _validation_error(exc: ValidationError) -> InvalidInput:
    fields = {}
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"]) or "body"
        fields[loc] = err["msg"]
    first = next(iter(fields.items()))
    return InvalidInput(
        N_("%(field)s: %(problem)s"), params={"field": first[0], "problem": first[1]}, fields=fields
    )


# No body of ours nests deeper than a few levels; a deeper one is refused before
# validation walks it (and Python's json recursion would end in a RecursionError).
MAX_JSON_DEPTH = 32


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _read_json() -> Any:
    if not request.is_json:
        raise BadJSON("Send the body as JSON (Content-Type: application/json).")
    data = request.get_data(cache=True)
    if nests_deeper_than(data, MAX_JSON_DEPTH):  # before parsing: see sessions/jsondepth.py
        raise BadJSON(
            N_("The body nests too deeply (at most %(n)s levels)."), params={"n": MAX_JSON_DEPTH}
        )
    try:
        raw = json.loads(data)
    except RecursionError:  # kept as a backstop; the scan above refuses such bodies first
        raise BadJSON(
            N_("The body nests too deeply (at most %(n)s levels)."), params={"n": MAX_JSON_DEPTH}
        ) from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise BadJSON("The body is not valid JSON.") from None
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BadJSON(
            N_("The body nests too deeply (at most %(n)s levels)."), params={"n": MAX_JSON_DEPTH}
        )
    refuse_nul(strings_in(raw), "body")
    return raw


def _parse_body(model: type[BaseModel]) -> BaseModel:
    raw: Any = _read_json() if request.data else {}
    if not isinstance(raw, dict):
        raise InvalidInput("The body must be a JSON object.")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _validation_error(exc) from None


def _parse_query(model: type[BaseModel]) -> BaseModel:
    raw = {key: request.args.get(key) for key in request.args}
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _validation_error(exc) from None


def _serialise(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_serialise(item) for item in value]
    return value


def api_route(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    response: Any = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    summary: str = "",
    tag: str = "api",
    status: int = 200,
    auth: str = "public",
    example: dict[str, Any] | None = None,
    doc_body: type[BaseModel] | None = None,
) -> Callable[[F], F]:
    """Register a JSON operation on `bp` (mounted at /api) and in the OpenAPI document.

    auth says who the operation is for, and is documented in the OpenAPI document:
    "public"; "shopper" (guests; the view creates the guest if needed); or a staff
    level ("staff", "brand_admin", "host"), for which anyone not signed in as staff
    is refused with 401 before the body is even read. The view still makes the
    precise check (which brand, which session) through sessions.access.
    `example` is a valid request body, shown in the document and used by the
    role-matrix test.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(**path_args: Any) -> Response:
            if auth in STAFF_LEVELS:
                check_signed_in_staff(current_actor())
            kwargs = dict(path_args)
            if body is not None:
                kwargs["body"] = _parse_body(body)
            if query is not None:
                kwargs["query"] = _parse_query(query)
            result = view(**kwargs)
            code = status
            if isinstance(result, tuple):
                result, code = result
            if isinstance(result, Response):
                return result
            if result is None:
                return Response(status=204)
            out = jsonify(_serialise(result))
            out.status_code = code
            return out

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        OPERATIONS.append(
            Operation(
                rule,
                method.lower(),
                summary or (view.__doc__ or "").strip(),
                tag,
                body,
                query,
                response,
                status,
                auth,
                example,
                doc_body=doc_body,
            )
        )
        return wrapper  # type: ignore[return-value]

    return decorator


# --- OpenAPI -----------------------------------------------------------------

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "object"},
    },
}


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in _PARAM.findall(rule):
        schema: dict[str, Any] = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _PARAM.sub(r"{\2}", rule), params


class _Schemas:
    """Collects component schemas from pydantic models, de-duplicated by name."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, annotation: Any) -> dict[str, Any]:
        adapter = TypeAdapter(annotation)
        schema = adapter.json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        return self._hoist(schema)

    def ref_input(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        return self._hoist(schema)

    def _hoist(self, schema: dict[str, Any]) -> dict[str, Any]:
        for name, definition in schema.pop("$defs", {}).items():
            self._add(name, definition)
        title = schema.get("title")
        if schema.get("type") == "object" and title:
            self._add(title, schema)
            return {"$ref": f"#/components/schemas/{title}"}
        return schema

    def _add(self, name: str, definition: dict[str, Any]) -> None:
        """A component is named by its model's class name: two models of one name would
        make one operation document the other's shape, so the second is an error."""
        known = self.components.setdefault(name, definition)
        if known != definition:
            raise SchemaNameCollision(
                f"Two API models are both named {name!r}; give one of them another name."
            )


class SchemaNameCollision(ValueError):
    """Two different pydantic models would share one OpenAPI component name."""


def _is_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return get_origin(annotation) is list and _is_model(get_args(annotation)[0])


def build_openapi(title: str, version: str) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, params = _openapi_path("/api" + op.rule)
        if op.query is not None:
            query_schema = op.query.model_json_schema()
            required = set(query_schema.get("required", []))
            for name, prop in query_schema.get("properties", {}).items():
                params.append(
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                )
        responses: dict[str, Any] = {}
        if op.response is None:
            responses["204"] = {"description": "Done"}
        else:
            content_schema = schemas.ref(op.response) if _is_model(op.response) else {}
            responses[str(op.status)] = {
                "description": "OK",
                "content": {"application/json": {"schema": content_schema}},
            }
        error_ref = {"$ref": "#/components/responses/Error"}
        for code in ("400", "401", "403", "404", "409", "422", "429"):
            responses[code] = error_ref
        operation: dict[str, Any] = {
            "operationId": f"{op.method}_{path}".replace("/", "_")
            .replace("{", "")
            .replace("}", ""),
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": params,
            "responses": responses,
        }
        if op.auth != "public":
            operation["security"] = [{"cookieSession": []}]
            operation["x-vitrine-auth"] = op.auth
        body_model = op.body or op.doc_body
        if body_model is not None:
            media: dict[str, Any] = {"schema": schemas.ref_input(body_model)}
            if op.example is not None:
                media["example"] = op.example
            operation["requestBody"] = {"required": True, "content": {"application/json": media}}
        paths.setdefault(path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "responses": {
                "Error": {
                    "description": "An error a client can act on",
                    "content": {"application/json": {"schema": _ERROR_SCHEMA}},
                }
            },
            "securitySchemes": {
                "cookieSession": {"type": "apiKey", "in": "cookie", "name": "vitrine_session"}
            },
        },
    }
