"""Checking a producer's batch of JSON lines at C speed (the ingest path of ``produce``).

A batch is checked as a whole: its nesting depth on the bracket skeleton of the
text, every line parsed by one C-level ``map`` (``orjson`` when it is installed:
optional, not a dependency; else the standard library's C scanner), and the
fields the store needs (``seq``, ``type``, ``session``, ``v``) read with
C-level ``map``s too. Anything unusual (a line to complete or to refuse) is left
to the caller's line-by-line check, which names the bad line; the fast path
accepts exactly what that check accepts unchanged, so both store the same rows.
"""
import json
import re
from itertools import islice, repeat
from operator import itemgetter, lt

try:  # optional: several times faster than the standard parser on float-heavy events
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None


def _no_constant(name):
    raise ValueError(f"{name} is not valid JSON")


DECODER = json.JSONDecoder(parse_constant=_no_constant)   # NaN/Infinity refused

# the bracket skeleton of a text: quotes and brackets kept, [ { as ( and ] } as )
_SKELETON = bytes.maketrans(b"[{]}", b"(())")
_NOT_SKELETON = bytes(c for c in range(256) if c not in b'[]{}"')
_QUOTED = re.compile(rb'"[^"]*"')


def json_text_depth_ok(text, max_depth):
    """True when no JSON value in ``text`` nests more than ``max_depth`` containers.

    Escaped backslashes and quotes are removed, then everything but quotes and
    brackets (one C pass), then strings (with the brackets they hold); each pass
    of ``replace("()", "")`` removes the innermost containers, so a text nesting
    ``d`` levels is empty after ``d`` passes. Exact for valid JSON; an invalid text is refused by the
    parser anyway.
    """
    b = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if b"\\" in b:
        b = b.replace(b"\\\\", b"").replace(b'\\"', b"")
    b = b.translate(_SKELETON, _NOT_SKELETON)
    if b'"' in b:
        # two adjacent quotes either close an empty string or join two strings into one:
        # either way what is inside strings stays inside; then the strings left
        b = b.replace(b'""', b"")
        if b'"' in b:
            b = _QUOTED.sub(b"", b)
    for _ in range(max_depth):
        shorter = b.replace(b"()", b"")
        if len(shorter) == len(b):
            return True          # nothing left to remove (what is left is unbalanced)
        b = shorter
    return b"()" not in b


def _parse_all(lines):
    """Every line parsed as one JSON value, or None when one of them is not."""
    if _orjson is not None:
        try:
            return list(map(_orjson.loads, lines))
        except (ValueError, RecursionError):   # the line-by-line check says what is wrong
            return None
    try:
        pairs = list(map(DECODER.scan_once, lines, repeat(0)))
    except (ValueError, RecursionError):
        return None
    # a StopIteration (no value at offset 0) ends the map early: counts differ then
    if list(map(itemgetter(1), pairs)) != list(map(len, lines)):
        return None
    return list(map(itemgetter(0), pairs))


def fast_rows(lines, sid):
    """``[(seq, type, line)]`` when every line is an event object ready to store as
    sent (``seq`` an int >= 1 increasing, ``type`` a string of 1-64 characters,
    ``session`` == ``sid`` and a ``v``), else None."""
    evs = _parse_all(lines)
    if not evs or set(map(type, evs)) != {dict}:
        return None
    get = dict.get
    seqs = list(map(get, evs, repeat("seq")))
    if set(map(type, seqs)) != {int} or seqs[0] < 1 or \
            not all(map(lt, seqs, islice(seqs, 1, None))):
        return None
    types = list(map(get, evs, repeat("type")))
    if set(map(type, types)) != {str}:
        return None
    sizes = list(map(len, types))
    if min(sizes) < 1 or max(sizes) > 64:
        return None
    if list(map(get, evs, repeat("session"))).count(sid) != len(evs) or \
            not all(map(dict.__contains__, evs, repeat("v"))):
        return None
    return list(zip(seqs, types, lines))
