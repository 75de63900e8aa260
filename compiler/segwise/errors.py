"""Errors a user can act on: each names the file, line and column, and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int  # 1-based
    col: int  # 1-based
    message: str
    hint: str | None = None
    severity: str = ERROR  # or WARNING: reported, but nothing fails (`validate --target`'s advice)

    @property
    def is_error(self) -> bool:
        return self.severity != WARNING

    def __str__(self) -> str:
        label = "warning: " if self.severity == WARNING else ""
        text = f"{self.file}:{self.line}:{self.col}: {label}{self.message}"
        return f"{text}; {self.hint}" if self.hint else text


class SegwiseError(Exception):
    """Base of every error segwise reports to a user (the CLI prints it, exit 1)."""


class ValidationError(SegwiseError):
    """One or more problems in `segwise.yml` or the segment files; nothing was changed."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class CompileError(SegwiseError):
    """A valid rule that cannot be compiled for the requested dialect."""


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """`did you mean 'plan'?` for the closest choice, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def quoted_names(names: Iterable[str]) -> str:
    """`'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`: the close names a hint offers."""
    items = [f"'{n}'" for n in names]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def closest_names(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` choices close to `word`, closest first (the case of letters aside)."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.lower(), choice)
    matches = difflib.get_close_matches(word.lower(), list(by_folded), n=n, cutoff=0.6)
    return [by_folded[m] for m in matches]
