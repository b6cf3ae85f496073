"""The nesting scan that guards json.loads in the web app and the relay."""

import json

import pytest

from sessions.jsondepth import nests_deeper_than


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        ({}, 1),
        ([[[]]], 3),
        ({"a": [{"b": [1, 2]}, []]}, 4),
        ({"sdp": "[[[[{{{{ not nesting }}}}]]]]"}, 1),  # brackets inside a string
        ({"q": 'a \\" [[[ " still a string'}, 1),  # an escaped quote does not end it
        ([{"k": "\\\\"}, [[]]], 3),  # an escaped backslash does not escape the quote
    ],
)
def test_the_scan_measures_what_the_parser_would_build(value: object, depth: int) -> None:
    data = json.dumps(value).encode()
    assert not nests_deeper_than(data, depth)
    assert nests_deeper_than(data, depth - 1)


def test_a_body_too_deep_for_the_parser_is_refused_without_parsing() -> None:
    assert nests_deeper_than(b"[" * 100_000, 32)
    assert nests_deeper_than(b'{"a":' * 100_000, 32)
