"""The case a guest check judges: one running guest of the source, one destination, the pair
look-ups made for it (CPU comparison, storage marker) and the guests planned to the same
destination before it. Checks of scope "guest" take a GuestCase; engine.judge_guest runs them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from migdoctor.checkapi import Skip
from migdoctor.judging.convergence import Terms
from migdoctor.judging.domain import Domain, DomainXMLError, parse_domain


@dataclass(frozen=True)
class GuestCase:
    guest: dict[str, Any]  # the source's `guests` entry
    src: dict[str, Any]
    dst: dict[str, Any]
    src_label: str
    dst_label: str
    lookups: dict[str, Any]  # measured.guests[name]; {} when none were made
    others: tuple[str, ...] = ()  # guests planned to the same destination before this one
    convergence: Terms | None = None  # what its migration is predicted with; None: nothing to predict with

    @cached_property
    def domain(self) -> Domain:
        """The guest's migratable XML read; a guest whose XML libvirt could not have written is
        judged by no check (Skip naming it)."""
        try:
            return parse_domain(self.guest["xml"])
        except DomainXMLError as exc:
            raise Skip(f"{self.src_label}: guest {self.name}: {exc}") from None

    @property
    def name(self) -> str:
        return str(self.guest.get("name", "?"))
