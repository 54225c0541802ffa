"""Masking of identifiers in any text a report echoes.

A centre's cell can hold free text where a number belongs (``家属张伟 电话13800000001``),
and a report quotes what it found. Every value and message of a :class:`Problem` passes
through :func:`redact` when the problem is made, so no report (JSON, HTML, the
operational database) repeats a phone number, a resident ID or an e-mail address.
Recognised, and replaced by ``*`` of the same length: mainland mobile numbers (11 digits
from 13 to 19, with or without +86 and separators), landlines with an area code
(010-12345678, (0755) 1234567), numbers of 7 or more digits after a word such as 电话
or tel, resident IDs (18 characters with a final X/x, or the old 15 digits), and e-mail
addresses; full-width digits (１３８...) count as digits. Names cannot be recognised
reliably and are not masked: the hint of a type problem asks for numbers only.
"""

from __future__ import annotations

import re

_D = "[0-9０-９]"  # a digit as exports write it, half- or full-width
_SEP = r"[-\s－‐]?"
_NOT_DIGIT_BEFORE = r"(?<![0-9０-９])"
_NOT_DIGIT_AFTER = r"(?![0-9０-９])"

_PATTERNS = tuple(re.compile(p, re.IGNORECASE) for p in (
    # e-mail, also with a full-width @
    r"[\w.+-]+\s?[@＠]\s?[\w-]+(?:[.．][\w-]+)+",
    # resident IDs: 17 digits and a check digit or X, or the 15-digit first generation
    _NOT_DIGIT_BEFORE + f"{_D}{{17}}[0-9０-９xXｘＸ]" + r"(?![0-9０-９a-z])",
    _NOT_DIGIT_BEFORE + f"{_D}{{15}}" + _NOT_DIGIT_AFTER,
    # mainland mobiles: 1[3-9]x xxxx xxxx, optionally +86 / 0086 first
    r"(?:(?:\+|＋|00)?86" + _SEP + ")?" + _NOT_DIGIT_BEFORE
    + f"[1１][3-9３-９]{_D}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}" + _NOT_DIGIT_AFTER,
    # landlines with an area code: 0 and 2-3 digits, then 7-8 digits, extension optional
    _NOT_DIGIT_BEFORE + r"[(（]?" + f"[0０]{_D}{{2,3}}" + r"[)）]?" + _SEP
    + f"{_D}{{7,8}}" + r"(?:(?:转|-|ext\.?)" + f"{_D}{{1,6}})?" + _NOT_DIGIT_AFTER,
    # any number of 7 or more digits that a word says is a phone number
    r"(?:电话|手机|座机|联系方式|联系电话|tel|phone|mobile)[:：\s]*"
    + f"(?:{_D}{_SEP}){{6,}}{_D}",
))


def redact(text: str) -> str:
    """``text`` with every phone number, resident ID and e-mail address starred out."""
    if not text or not any(c.isdigit() or c in "@＠" for c in text):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_stars, text)
    return text


def _stars(match: re.Match) -> str:
    # keep a phone keyword readable (电话 ***********): it tells the centre what was there
    word = re.match(r"(电话|手机|座机|联系方式|联系电话|tel|phone|mobile)[:：\s]*",
                    match.group(0), re.IGNORECASE)
    kept = word.group(0) if word else ""
    return kept + "*" * (len(match.group(0)) - len(kept))


def mask(value: str) -> str:
    """An identifier shown without revealing it: first 4 and last 2 characters (enough
    for the centre to find the row, too few to name the person)."""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]
