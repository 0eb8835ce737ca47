"""JSON request bodies: what the API accepts beyond JSON's grammar.

Nesting deeper than MAX_JSON_DEPTH is refused (Python's parser would hit its recursion limit
near 1,000 levels, and nothing we store is deeper than a few levels), and so are strings with
NUL characters or unpaired surrogates (PostgreSQL text and jsonb cannot store them, so they would
fail deep inside a write) and numbers beyond a float's range (`1e999` would be read as infinity,
which jsonb refuses and no JSON response can carry). `RequestGuardMiddleware` applies this to every body before any view
runs; the parser below applies it again where DRF parses a body itself.
"""

import codecs
import math
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from .exceptions import invalid_request

MAX_JSON_DEPTH = 64

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In the JSON text, the only ways to write those characters (raw control characters are not
# valid JSON, and the text itself was decoded strictly).
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")

TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted."
UNSTORABLE = "JSON strings may not contain NUL characters (\\u0000) or unpaired surrogates."
OUT_OF_RANGE = "JSON numbers must be within a double's range."


def json_problem(data, text: str) -> str | None:
    """Why a parsed JSON value cannot be accepted, or None. `text` is the JSON it came from:
    two quick scans of it decide whether the value needs walking at all."""
    deep = text.count("[") + text.count("{") > MAX_JSON_DEPTH
    strings = _UNSTORABLE_ESCAPE.search(text) is not None
    if not (deep or strings):
        return None
    stack = [([data], 0)]  # the value, inside a list of depth 0
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return TOO_DEEP
        if isinstance(node, dict):
            if strings and any(_UNSTORABLE.search(key) for key in node):
                return UNSTORABLE
            node = node.values()
        for child in node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif strings and isinstance(child, str) and _UNSTORABLE.search(child):
                return UNSTORABLE
    return None


def loads(text: str, *, strict: bool = True):
    """Parse a JSON body: ValueError for bad JSON (as json.loads does), ApiError
    `invalid_request` for JSON we do not accept."""
    try:
        value = json.loads(
            text,
            parse_constant=json.strict_constant if strict else None,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise invalid_request(TOO_DEEP) from None
    problem = json_problem(value, text)
    if problem:
        raise invalid_request(problem)
    return value


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise invalid_request(OUT_OF_RANGE)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the limits above (400 `invalid_request`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return loads(text, strict=self.strict)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
