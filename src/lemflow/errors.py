"""Errors for bad input: every message names the file, the line and what is wrong."""
from __future__ import annotations

import re


class InputError(ValueError):
    """A problem in a user-supplied file, reported before any long stage starts."""

    def __init__(self, path, problem: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")


class ConfigError(InputError):
    """A configuration that cannot be used: every problem found, one ``where: problem`` per line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        self.path, self.line, self.problem = "config", None, "\n".join(self.problems)
        ValueError.__init__(self, self.problem)


def one_line(err: BaseException) -> str:
    """An error as one console line (``file:line: problem``; line breaks in it become spaces)."""
    return " ".join(str(err).split("\n")).strip()


def run_main(main, argv=None) -> None:
    """Run a workflow script's ``main``: an :class:`InputError` or :class:`ConfigError` ends it with
    its ``file:line: problem`` line(s) on stderr and exit status 1, no traceback (it is the input
    that is wrong, not the code). ``LEMFLOW_DEBUG=1`` re-raises it, traceback included."""
    import os
    import sys

    try:
        main(argv) if argv is not None else main()
    except InputError as err:
        if os.environ.get("LEMFLOW_DEBUG", "") not in ("", "0"):
            raise
        lines = err.problems if isinstance(err, ConfigError) else [one_line(err)]
        sys.stderr.flush()
        for line in lines:
            print(line, file=sys.stderr)
        sys.exit(1)


LOG_HINT = re.compile(r"^\s*log: (?P<logs>.+?) \(check log file\(s\) for error details\)\s*$")


def failed_job_messages(snakemake_logs) -> list[str]:
    """For Snakemake's ``onerror``: the last non-blank line of each failed job's log (the
    ``file:line: problem`` that :func:`run_main` wrote there), as ``<job log>: <line>``.

    ``snakemake_logs`` is what Snakemake passes as ``log`` (one path or a list of paths of its own
    log files, which name each failed job's log)."""
    messages = []
    for job_log in _job_logs(snakemake_logs, LOG_HINT):
        lines = _log_lines(job_log)
        last = next((line.strip() for line in reversed(lines) if line.strip()), None)
        if last:
            messages.append(f"{job_log}: {last}")
    return messages


def _log_lines(path) -> list[str]:
    """The lines of a log file; none when it cannot be read (a job that never started)."""
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _job_logs(snakemake_logs, pattern) -> list[str]:
    from pathlib import Path

    if isinstance(snakemake_logs, (str, Path)):
        snakemake_logs = [snakemake_logs]
    found: list[str] = []
    for main_log in snakemake_logs or []:
        for line in _log_lines(main_log):
            match = pattern.match(line)
            if match:
                found += [p.strip() for p in match.group("logs").split(", ") if p.strip()]
    return list(dict.fromkeys(found))


JOB_LOG = re.compile(r"^\s*log: (?P<logs>.+?)(?: \(check log file\(s\) for error details\))?\s*$")
WARNING = re.compile(r"\bWARNING lemflow: (?P<message>.*)$")


def input_warning(message: str, *args) -> None:
    """Log a warning about the input (a skipped gold line, an empty split, removed characters) in
    the form :func:`job_warnings` brings to the console at the end of the run."""
    import logging

    logging.getLogger("lemflow").warning("lemflow: " + message, *args)


def job_warnings(snakemake_logs) -> list[str]:
    """For Snakemake's ``onsuccess``/``onerror``: the WARNING lines (``logging.warning``) of the
    jobs this invocation ran, as ``<job log>: <message>``, so that they reach the console."""
    messages = []
    for job_log in _job_logs(snakemake_logs, JOB_LOG):
        for line in _log_lines(job_log):
            match = WARNING.search(line)
            if match and match.group("message").strip():
                messages.append(f"{job_log}: warning: {match.group('message').strip()}")
    return list(dict.fromkeys(messages))
