"""Errors for bad input: every message names the file, the line and what is wrong."""
from __future__ import annotations


class InputError(ValueError):
    """A problem in a user-supplied file, reported before any long stage starts."""

    def __init__(self, path, problem: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")
