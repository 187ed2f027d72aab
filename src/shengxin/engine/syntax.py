"""Surface syntax of the definition language: tokens, the syntax tree and a Pratt parser.

Grammar (lowest precedence first; keywords are case-insensitive)::

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | test
    test       := sum [ cmp sum
                      | ["not"] "in" list
                      | ["not"] "between" sum "and" sum
                      | ["not"] "under" (string | list)
                      | "is" ["not"] "null" ]
    cmp        := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "≠" | "≤" | "≥"
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := number [unit] | string | "true" | "false" | "null" | name | call
                | list | "(" expr ")"
    call       := name "(" [arg ("," arg)*] ")"      arg := expr | name "=" expr
    list       := "[" [expr ("," expr)*] "]"
    name       := identifier ("." identifier)*

Numbers may carry a unit right after them (``2000万元``, ``20%``, ``300人``, ``3年``); strings are
single- or double-quoted. Comparisons do not chain (``a < b < c`` is an error: write ``between``).
Every node records the offset where it starts, so errors can point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from shengxin.engine.errors import DefinitionError, Position
from shengxin.engine.types import UNIT_SPELLINGS

KEYWORDS = {"and", "or", "not", "in", "between", "under", "is", "null", "true", "false"}
COMPARISONS = {"=": "=", "!=": "!=", "<>": "!=", "≠": "!=", "<": "<", "<=": "<=", "≤": "<=",
               ">": ">", ">=": ">=", "≥": ">="}


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Syntax:
    """Base of syntax nodes; ``at`` is the offset of the node's first character (not compared)."""

    at: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True)
class Number(Syntax):
    text: str  # the digits as written
    unit: str | None  # unit spelling right after the number, if any


@dataclass(frozen=True)
class String(Syntax):
    value: str


@dataclass(frozen=True)
class Boolean(Syntax):
    value: bool


@dataclass(frozen=True)
class Null(Syntax):
    pass


@dataclass(frozen=True)
class Name(Syntax):
    name: str  # dotted, e.g. "annual.revenue"


@dataclass(frozen=True)
class ListOf(Syntax):
    items: tuple[Syntax, ...]


@dataclass(frozen=True)
class Call(Syntax):
    func: str
    args: tuple[Syntax, ...]
    kwargs: tuple[tuple[str, Syntax, int], ...]  # (name, value, offset of the name)


@dataclass(frozen=True)
class Unary(Syntax):
    op: str  # "not" | "-"
    operand: Syntax


@dataclass(frozen=True)
class Binary(Syntax):
    op: str  # "and" "or" "+" "-" "*" "/" or a comparison
    left: Syntax
    right: Syntax
    op_at: int = field(default=0, compare=False)


@dataclass(frozen=True)
class InList(Syntax):
    operand: Syntax
    items: Syntax  # ListOf or Call (codes(...))
    negated: bool


@dataclass(frozen=True)
class Between(Syntax):
    operand: Syntax
    low: Syntax
    high: Syntax
    negated: bool


@dataclass(frozen=True)
class Under(Syntax):
    operand: Syntax
    codes: Syntax  # String, ListOf or Call (codes(...))
    negated: bool


@dataclass(frozen=True)
class IsNull(Syntax):
    operand: Syntax
    negated: bool


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # "num" "str" "name" "op" "kw" "end"
    text: str
    at: int
    unit: str | None = None
    value: str | None = None


_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPS = ("<=", ">=", "!=", "<>", "≤", "≥", "≠", "=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",")
_UNIT_AFTER_SPACE = re.compile(r"[ \t]*")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _SPACE.match(text, pos)
        if m:
            pos = m.end()
            continue
        ch = text[pos]
        m = _NUMBER.match(text, pos)
        if m:
            end = m.end()
            unit = None
            # A unit right after the number (spaces allowed for words like "kWh" and Chinese units).
            gap = _UNIT_AFTER_SPACE.match(text, end).end()
            for spelling in UNIT_SPELLINGS:
                start = end if text.startswith(spelling, end) else gap if text.startswith(spelling, gap) else None
                if start is None:
                    continue
                after = start + len(spelling)
                if spelling.isascii() and spelling.isalpha() and after < n and (text[after].isalnum() or text[after] == "_"):
                    continue  # part of a longer word, not a unit
                unit = spelling
                end = after
                break
            if end < n and (text[end].isalpha() or text[end] == "_") and text[end].isascii():
                raise _syntax_error(text, end, f"unexpected {text[end]!r} after the number {m.group(0)}",
                                    "a unit such as 万元, 元, %, 人, kWh, 年 or an operator")
            tokens.append(Token("num", text[pos:end], pos, unit=unit, value=m.group(0)))
            pos = end
            continue
        if ch in "'\"":
            end = text.find(ch, pos + 1)
            if end < 0:
                raise _syntax_error(text, pos, "unterminated string", f"close the string with {ch}")
            tokens.append(Token("str", text[pos:end + 1], pos, value=text[pos + 1:end]))
            pos = end + 1
            continue
        m = _NAME.match(text, pos)
        if m:
            word = m.group(0)
            kind = "kw" if word.lower() in KEYWORDS else "name"
            tokens.append(Token(kind, word.lower() if kind == "kw" else word, pos))
            pos = m.end()
            continue
        op = next((o for o in _OPS if text.startswith(o, pos)), None)
        if op:
            tokens.append(Token("op", op, pos))
            pos += len(op)
            continue
        if ch == "=" or ch == "!":
            raise _syntax_error(text, pos, f"unexpected {ch!r}", "= != < <= > >=")
        raise _syntax_error(text, pos, f"unexpected character {ch!r}",
                            "names, numbers with units, 'strings', [lists], operators + - * / = != < <= > >=, "
                            "and, or, not, in, between, under, is null")
    tokens.append(Token("end", "", n))
    return tokens


def _syntax_error(text: str, offset: int, message: str, allowed: str | None = None) -> DefinitionError:
    return DefinitionError(message, position=Position.of(text, offset), text=text, allowed=allowed)


# --------------------------------------------------------------------------- parser


class Parser:
    """Pratt parser over the token list; raises :class:`DefinitionError` with a position."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def at_kw(self, *kws: str) -> bool:
        return self.tok.kind == "kw" and self.tok.text in kws

    def expect_op(self, op: str, what: str) -> Token:
        if not self.at_op(op):
            raise self.error(f"expected {op!r} {what}, found {self.describe(self.tok)}")
        return self.advance()

    def describe(self, t: Token) -> str:
        return "the end of the definition" if t.kind == "end" else repr(t.text)

    def error(self, message: str, at: int | None = None, allowed: str | None = None) -> DefinitionError:
        return _syntax_error(self.text, self.tok.at if at is None else at, message, allowed)

    # grammar
    def parse(self) -> Syntax:
        if self.tok.kind == "end":
            raise self.error("the definition is empty", allowed="an expression such as annual.employees >= 20")
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.describe(self.tok)} after a complete expression",
                             allowed="and, or, an operator, or the end of the definition")
        return node

    def parse_or(self) -> Syntax:
        left = self.parse_and()
        while self.at_kw("or"):
            op = self.advance()
            left = Binary("or", left, self.parse_and(), at=left.at, op_at=op.at)
        return left

    def parse_and(self) -> Syntax:
        left = self.parse_not()
        while self.at_kw("and"):
            op = self.advance()
            left = Binary("and", left, self.parse_not(), at=left.at, op_at=op.at)
        return left

    def parse_not(self) -> Syntax:
        if self.at_kw("not"):
            t = self.advance()
            return Unary("not", self.parse_not(), at=t.at)
        return self.parse_test()

    def parse_test(self) -> Syntax:
        left = self.parse_sum()
        t = self.tok
        if t.kind == "op" and t.text in COMPARISONS:
            self.advance()
            right = self.parse_sum()
            if self.tok.kind == "op" and self.tok.text in COMPARISONS:
                raise self.error("comparisons do not chain", allowed="a between x and y, or two comparisons joined by and")
            return Binary(COMPARISONS[t.text], left, right, at=left.at, op_at=t.at)
        negated = False
        if self.at_kw("not") and self.tokens[self.i + 1].kind == "kw" and self.tokens[self.i + 1].text in {"in", "between", "under"}:
            self.advance()
            negated = True
        if self.at_kw("in"):
            self.advance()
            items = self.parse_list_operand("in")
            return InList(left, items, negated, at=left.at)
        if self.at_kw("between"):
            self.advance()
            low = self.parse_sum()
            if not self.at_kw("and"):
                raise self.error(f"expected 'and' in between, found {self.describe(self.tok)}", allowed="x between low and high")
            self.advance()
            high = self.parse_sum()
            return Between(left, low, high, negated, at=left.at)
        if self.at_kw("under"):
            self.advance()
            if self.tok.kind == "str":
                s = self.advance()
                codes: Syntax = String(s.value, at=s.at)
            else:
                codes = self.parse_list_operand("under")
            return Under(left, codes, negated, at=left.at)
        if self.at_kw("is"):
            self.advance()
            neg = False
            if self.at_kw("not"):
                self.advance()
                neg = True
            if not self.at_kw("null"):
                raise self.error(f"expected 'null' after 'is', found {self.describe(self.tok)}", allowed="is null, is not null")
            self.advance()
            return IsNull(left, neg, at=left.at)
        if negated:
            raise self.error("expected in, between or under after not")
        return left

    def parse_list_operand(self, keyword: str) -> Syntax:
        if self.at_op("["):
            return self.parse_list()
        if self.tok.kind == "name" and self.tokens[self.i + 1].kind == "op" and self.tokens[self.i + 1].text == "(":
            return self.parse_primary()
        raise self.error(f"expected a list after {keyword}, found {self.describe(self.tok)}",
                         allowed="['a', 'b'] or codes('list_name')" + (" or a single 'code'" if keyword == "under" else ""))

    def parse_sum(self) -> Syntax:
        left = self.parse_product()
        while self.at_op("+", "-"):
            op = self.advance()
            left = Binary(op.text, left, self.parse_product(), at=left.at, op_at=op.at)
        return left

    def parse_product(self) -> Syntax:
        left = self.parse_unary()
        while self.at_op("*", "/"):
            op = self.advance()
            left = Binary(op.text, left, self.parse_unary(), at=left.at, op_at=op.at)
        return left

    def parse_unary(self) -> Syntax:
        if self.at_op("-"):
            t = self.advance()
            return Unary("-", self.parse_unary(), at=t.at)
        return self.parse_primary()

    def parse_list(self) -> ListOf:
        start = self.expect_op("[", "to start a list")
        items: list[Syntax] = []
        if not self.at_op("]"):
            items.append(self.parse_or())
            while self.at_op(","):
                self.advance()
                items.append(self.parse_or())
        self.expect_op("]", "to close the list")
        return ListOf(tuple(items), at=start.at)

    def parse_primary(self) -> Syntax:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return Number(t.value, t.unit, at=t.at)
        if t.kind == "str":
            self.advance()
            return String(t.value, at=t.at)
        if t.kind == "kw" and t.text in ("true", "false"):
            self.advance()
            return Boolean(t.text == "true", at=t.at)
        if t.kind == "kw" and t.text == "null":
            self.advance()
            return Null(at=t.at)
        if t.kind == "op" and t.text == "(":
            self.advance()
            inner = self.parse_or()
            self.expect_op(")", "to close the parenthesis")
            return inner
        if t.kind == "op" and t.text == "[":
            return self.parse_list()
        if t.kind == "name":
            self.advance()
            if self.at_op("("):
                return self.parse_call(t)
            return Name(t.text, at=t.at)
        raise self.error(f"expected a value, found {self.describe(t)}",
                         allowed="a number, 'string', true, false, null, a field name, a function call, [list] or (expression)")

    def parse_call(self, name: Token) -> Call:
        self.expect_op("(", "after the function name")
        args: list[Syntax] = []
        kwargs: list[tuple[str, Syntax, int]] = []
        if not self.at_op(")"):
            while True:
                if (self.tok.kind == "name" and self.tokens[self.i + 1].kind == "op"
                        and self.tokens[self.i + 1].text == "="):
                    key = self.advance()
                    self.advance()
                    if any(k == key.text for k, _, _ in kwargs):
                        raise self.error(f"argument {key.text!r} given twice", at=key.at)
                    kwargs.append((key.text, self.parse_or(), key.at))
                else:
                    if kwargs:
                        raise self.error("a positional argument cannot follow a named one",
                                         allowed="positional arguments first, then name=value")
                    args.append(self.parse_or())
                if self.at_op(","):
                    self.advance()
                    continue
                break
        self.expect_op(")", f"to close the call of {name.text}")
        return Call(name.text, tuple(args), tuple(kwargs), at=name.at)


def parse(text: str) -> Syntax:
    """Parse one expression; raises :class:`DefinitionError` pointing at the problem."""
    if not isinstance(text, str):
        raise DefinitionError(f"a definition must be text, got {type(text).__name__}",
                              allowed="an expression string")
    return Parser(text).parse()


def number_value(node: Number) -> Decimal:
    return Decimal(node.text)
