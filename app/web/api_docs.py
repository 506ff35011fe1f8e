"""The API reference in the dashboard (`/api-docs`): the OpenAPI description that
`/api/openapi.json` serves, rendered on the server. No CDN, no script: a page that reads like the
rest of the dashboard and cannot drift from the description, because it is drawn from it."""
import json

from flask import Blueprint, current_app
from flask_login import login_required
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from app.api.description import description
from app.web.htmx import render

bp = Blueprint("api_docs", __name__)
# CommonMark without raw HTML: descriptions are ours, but nothing in them becomes markup.
_markdown = MarkdownIt("commonmark", {"html": False})
METHODS = ("get", "post", "put", "patch", "delete")


def prose(text: str | None) -> Markup:
    return Markup(_markdown.render(text or ""))


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_html(schema: dict) -> Markup:
    """A schema as a reader says it: `Order`, `list of Product`, `string or null`, links to
    the named schemas below."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return Markup(" or ").join(type_html(s) for s in schema[combinator])
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return Markup("one of ") + Markup(", ").join(
            Markup("<code>{}</code>").format(v) for v in values)
    kind = schema.get("type")
    if kind == "array":
        return Markup("list of ") + type_html(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return Markup("map of string to ") + type_html(schema["additionalProperties"])
    text = escape(kind or "any")
    if schema.get("format"):
        text += Markup(" <span class=\"muted\">({})</span>").format(schema["format"])
    return text


def _examples(schema: dict | None, doc: dict) -> list[str]:
    """The examples of a schema, or of each alternative of a union, as indented JSON."""
    if not schema:
        return []
    if "$ref" in schema:
        return _own_examples(doc["components"]["schemas"].get(_ref_name(schema["$ref"]), {}))
    if schema.get("type") == "array":
        # A list answer: the example of one element, in a list.
        return [f"[\n{_indent(e)}\n]" for e in _examples(schema.get("items"), doc)]
    return [e for part in schema.get("anyOf", []) for e in _examples(part, doc)]


def _own_examples(schema: dict) -> list[str]:
    return [json.dumps(e, indent=2, ensure_ascii=False) for e in schema.get("examples", [])]


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _parameters(operation: dict) -> list[dict]:
    return [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
             "type": type_html(p.get("schema", {})), "description": prose(p.get("description"))}
            for p in operation.get("parameters", [])]


def _body(operation: dict, doc: dict) -> dict | None:
    body = operation.get("requestBody")
    if not body:
        return None
    (media, content), = body["content"].items()
    return {"media": media, "required": body.get("required", False),
            "type": type_html(content["schema"]), "examples": _examples(content["schema"], doc)}


def _responses(operation: dict, doc: dict) -> list[dict]:
    answers = []
    for code, response in operation["responses"].items():
        content = response.get("content", {})
        media, schema = next(((m, c["schema"]) for m, c in content.items()), (None, None))
        answers.append({"code": code, "description": prose(response["description"]),
                        "media": media, "type": type_html(schema) if schema else None,
                        "headers": list(response.get("headers", {})),
                        # Examples of success answers; error answers share the Problem schema,
                        # whose example is shown with it below.
                        "examples": _examples(schema, doc) if code.startswith("2") else []})
    return answers


def _operations(doc: dict) -> dict[str, list[dict]]:
    by_tag: dict[str, list[dict]] = {}
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            by_tag.setdefault(operation["tags"][0], []).append({
                "id": operation["operationId"], "method": method.upper(), "path": path,
                "summary": operation["summary"],
                "description": prose(operation.get("description")),
                "parameters": _parameters(operation), "body": _body(operation, doc),
                "responses": _responses(operation, doc)})
    return dict(sorted(by_tag.items()))


def _schemas(doc: dict) -> list[dict]:
    schemas = []
    for name, schema in sorted(doc["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        fields = [{"name": member, "type": type_html(spec), "required": member in required,
                   "description": prose(spec.get("description"))}
                  for member, spec in schema.get("properties", {}).items()]
        schemas.append({"name": name, "description": prose(schema.get("description")),
                        "fields": fields, "closed": schema.get("additionalProperties") is False,
                        "examples": _own_examples(schema)})
    return schemas


def _headers(doc: dict) -> list[dict]:
    return [{"name": name, "type": type_html(header["schema"]),
             "description": prose(header.get("description"))}
            for name, header in doc["components"].get("headers", {}).items()]


@bp.get("/api-docs")
@login_required
def reference():
    doc = description(current_app)
    return render("api_docs/page.html", info=doc["info"], intro=prose(doc["info"]["description"]),
                  operations=_operations(doc), schemas=_schemas(doc), headers=_headers(doc))
