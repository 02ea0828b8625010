"""One parser for `key = value` files in the dialects of libvirt (virconf.c) and xl (libxlu_cfg).

Both grammars descend from Xen's Python-style domain configs: statements end at a newline or `;`,
values are atoms or bracketed lists that may span lines and end with a comma. They differ in
tokens, in comments inside lists, in `+=`, and in which of two assignments wins; a Dialect says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from migdoctor.parsers import ParseError

Value = str | int | list["Value"]


@dataclass(frozen=True)
class Dialect:
    key: re.Pattern[str]
    assign: re.Pattern[str]
    # Value tokens in the order tried; a decoder raises ValueError(message) to reject its token.
    atoms: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Value]], ...]
    eol: str
    comments_in_lists: bool
    first_wins: bool


def parse_assignments(text: str, path: str, dialect: Dialect) -> dict[str, Value]:
    return _Parser(text, path, dialect).statements()


class _Parser:
    def __init__(self, text: str, path: str, dialect: Dialect) -> None:
        self.text = text
        self.path = path
        self.dialect = dialect
        self.pos = 0
        eol = dialect.eol
        comment = f"#[^{eol}]*"
        self.blanks = re.compile("[ \t]*")
        self.gap = re.compile(f"(?:[ \t{eol}]|{comment})*")
        self.list_gap = self.gap if dialect.comments_in_lists else re.compile(f"[ \t{eol}]*")
        self.end = re.compile(f"[ \t]*(?:{comment})?(?:[{eol};]|\\Z)")

    def fail(self, message: str, pos: int | None = None) -> NoReturn:
        at = self.pos if pos is None else pos
        raise ParseError(self.path, self.text.count("\n", 0, at) + 1, message)

    def take(self, pattern: re.Pattern[str] | str) -> re.Match[str] | None:
        match = re.compile(pattern).match(self.text, self.pos)
        if match:
            self.pos = match.end()
        return match

    def expect(self, pattern: re.Pattern[str], message: str) -> str:
        match = self.take(pattern)
        if not match:
            self.fail(message)
        return match.group()

    def statements(self) -> dict[str, Value]:
        values: dict[str, Value] = {}
        while True:
            self.take(self.gap)
            if self.pos == len(self.text):
                return values
            start = self.pos
            key = self.expect(self.dialect.key, "expecting a name")
            self.take(self.blanks)
            op = self.expect(self.dialect.assign, "expecting an assignment")
            value = self.value()
            if not self.take(self.end):
                self.fail("expecting a separator")
            self.store(values, key, op, value, start)

    def store(self, values: dict[str, Value], key: str, op: str, value: Value, at: int) -> None:
        previous = values.get(key)
        if op == "+=" and previous is not None:
            if isinstance(previous, list) and isinstance(value, list):
                values[key] = [*previous, *value]
            elif isinstance(previous, str) and isinstance(value, str):
                values[key] = previous + value
            else:
                self.fail('can\'t add [list] to "string" or vice versa', at)
        elif previous is None or not self.dialect.first_wins:
            values[key] = value

    def value(self) -> Value:
        self.take(self.blanks)
        if self.take(r"\["):
            return self.items()
        for pattern, decode in self.dialect.atoms:
            start = self.pos
            match = self.take(pattern)
            if match:
                try:
                    return decode(match)
                except ValueError as exc:
                    self.fail(str(exc), start)
        if self.text.startswith(("'", '"'), self.pos):
            self.fail("unterminated string")
        self.fail("expecting a value")

    def items(self) -> list[Value]:
        items: list[Value] = []
        self.take(self.list_gap)
        while not self.take(r"\]"):
            if self.pos == len(self.text):
                self.fail("list is not closed with ]")
            if items:
                if not self.take(","):
                    self.fail("expecting a separator in list")
                self.take(self.list_gap)
                if self.take(r"\]"):
                    break
            items.append(self.value())
            self.take(self.list_gap)
        return items
