"""What a handler's own source says about its input and answer, for the OpenAPI description
(app.api.description): the body model it hands to `parse_body`, the query it parses, whether it
reads a version or answers conditionally, whether it sets Location. Read from the source rather
than declared beside it, so a handler cannot say one thing and do another.
"""
import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from functools import cache

from pydantic import BaseModel

from app.api.headers import LOCATION
from app.core.query import FeedSpec, QuerySpec


@dataclass
class Handler:
    """What a handler's own source says."""
    body: type[BaseModel] | None = None
    body_optional: bool = False
    query: QuerySpec | None = None
    feed: FeedSpec | None = None
    # A single resource's query: None when the handler reads none, else the extras it allows.
    includes: tuple[str, ...] | None = None
    versioned: bool = False
    conditional: bool = False
    location: bool = False
    names: set = field(default_factory=set)


def _resolve(node: ast.expr, namespace: dict):
    """The object a Name or dotted Attribute expression names in the handler's module."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, namespace)
        return getattr(owner, node.attr, None)
    return None


@cache
def read_handler(view) -> Handler:
    view = inspect.unwrap(view)
    tree = ast.parse(textwrap.dedent(inspect.getsource(view)))
    found = Handler()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == LOCATION:
            found.location = True
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        found.names.add(name)
        if name == "parse_body" and node.args:
            found.body = _resolve(node.args[0], view.__globals__)
            # A handler that passes its own data has a default for a missing body.
            found.body_optional = len(node.args) > 1
        elif name == "parse_query" and len(node.args) > 1:
            found.query = _resolve(node.args[1], view.__globals__)
        elif name == "parse_feed" and len(node.args) > 1:
            found.feed = _resolve(node.args[1], view.__globals__)
        elif name == "parse_includes":
            found.includes = tuple(_resolve(node.args[1], view.__globals__)
                                   if len(node.args) > 1 else ())
    found.versioned = "expected_version" in found.names
    found.conditional = bool({"make_conditional", "not_modified"} & found.names)
    return found
