"""How deeply a JSON document nests, read from its bytes before it is parsed.

Python's json module recurses once per level: a body of 100,000 ``[`` ends in a
RecursionError at the bottom of the stack, where any finaliser that happens to
run (garbage collection strikes anywhere) fails too. Refusing such a body before
parsing keeps the stack shallow. Shared by the web app and the relay.
"""

from __future__ import annotations

import re

# The only bytes that matter: quotes and backslashes (strings), brackets (nesting).
_TOKENS = re.compile(rb'["\\\[\]{}]')
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENERS = {ord("["), ord("{")}


def nests_deeper_than(data: bytes, limit: int) -> bool:
    """True if arrays and objects in ``data`` nest more than ``limit`` levels deep
    (brackets inside strings do not count). Invalid JSON is the parser's to refuse."""
    depth, in_string, pos = 0, False, 0
    while (match := _TOKENS.search(data, pos)) is not None:
        byte, pos = data[match.start()], match.end()
        if in_string:
            if byte == _BACKSLASH:
                pos += 1  # the escaped byte, whatever it is
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
