"""Unified social credit code (统一社会信用代码, GB 32100-2015).

Structure of the 18 characters:

* 1      registering authority (登记管理部门代码), e.g. ``9`` = market regulation
* 2      entity type (机构类别代码), e.g. ``1`` enterprise, ``2`` individual business, ``3`` cooperative
* 3-8    administrative region code (登记管理机关行政区划码, GB/T 2260), digits only
* 9-17   organisation code (主体标识码, GB 11714)
* 18     check character

Alphabet: ``0-9`` and ``A-Z`` without ``I O S V Z`` (31 characters, values 0..30).
Check: weights ``w_i = 3^i mod 31`` for i = 0..16; check value
``(31 - Σ value_i·w_i mod 31) mod 31``.

Rule: a code that fails only the check character is *suspect*, not garbage — some genuine early
pilot codes fail it — so callers keep the record and flag it for review (:attr:`CodeCheck.severity`
is ``"warning"``). Structural defects (length, alphabet, region digits) are errors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

#: Registering authorities defined by the standard (first character).
AUTHORITIES = set("123456789ANY")


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code.

    Raises ``ValueError`` if a character is outside the alphabet.
    """
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    total = 0
    for ch, w in zip(first17, WEIGHTS):
        if ch not in VALUES:
            raise ValueError(f"character {ch!r} is not in the USCC alphabet")
        total += VALUES[ch] * w
    return ALPHABET[(31 - total % 31) % 31]


@dataclass(frozen=True)
class CodeCheck:
    """Outcome of checking one code; ``severity`` is ``ok``, ``warning`` or ``error``."""

    code: str
    valid: bool
    expected_check: str | None
    reason: str | None
    severity: str

    def as_dict(self) -> dict:
        """``code``, ``valid``, ``expected_check``, ``reason`` and ``severity`` as a plain dict."""
        return asdict(self)


#: Full-width forms (U+FF01-U+FF5E, typed with a Chinese input method) → ASCII; ideographic space → space.
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalise(code: str) -> str:
    """Fold full-width characters to ASCII, strip surrounding white space and upper-case the code.

    Raises ``TypeError`` for a non-string: an all-digit code read from a spreadsheet as a number
    may already have lost digits, so it must be read as text.
    """
    if not isinstance(code, str):
        raise TypeError(
            f"a unified social credit code must be a string, got {type(code).__name__} {code!r}; "
            "read the column as text"
        )
    return code.translate(_FULL_WIDTH).strip().upper()


def check(code: str) -> CodeCheck:
    """Check one code: structure, alphabet, region digits and check character.

    The code is normalised first (full-width folded, trimmed, upper-cased); ``code`` in the result is the
    normalised form.
    """
    c = normalise(code)
    if len(c) != 18:
        return CodeCheck(c, False, None, f"length is {len(c)}, must be 18", "error")
    bad = [(i + 1, ch) for i, ch in enumerate(c) if ch not in VALUES]
    if bad:
        pos, ch = bad[0]
        hint = " (I, O, S, V and Z are never used)" if ch in "IOSVZ" else ""
        return CodeCheck(c, False, None, f"character {pos} {ch!r} is not allowed{hint}", "error")
    if c[0] not in AUTHORITIES:
        return CodeCheck(c, False, None, f"character 1 {c[0]!r} is not a registering authority code", "error")
    if not c[2:8].isdigit():
        return CodeCheck(c, False, None, "characters 3-8 (region code) must be digits", "error")
    expected = check_character(c[:17])
    if expected != c[17]:
        return CodeCheck(
            c,
            False,
            expected,
            f"check character is {c[17]!r}, expected {expected!r}; keep the record and review it",
            "warning",
        )
    return CodeCheck(c, True, expected, None, "ok")


def make_code(authority: str, entity_type: str, region: str, org_code: str) -> str:
    """Assemble a valid code from its parts (used by the synthetic district and tests).

    Raises ``ValueError`` if the parts cannot form a valid code (wrong lengths, characters outside
    the alphabet, an unknown registering authority, a non-digit region).
    """
    first17 = f"{authority}{entity_type}{region}{org_code}"
    if (len(authority), len(entity_type), len(region), len(org_code)) != (1, 1, 6, 9):
        raise ValueError("parts must be 1, 1, 6 and 9 characters long")
    code = first17 + check_character(first17)
    result = check(code)
    if not result.valid:
        raise ValueError(f"cannot make a valid code from these parts: {result.reason}")
    return code
