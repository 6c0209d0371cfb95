"""One exception hierarchy for the whole package.

The core raises these; only the CLI boundary turns them into a message and an
exit code. Each error carries a `hint`: the fix a user should try.
"""

from __future__ import annotations


class DlcheckError(Exception):
    """Base of every error dlcheck raises on purpose."""

    #: exit code the CLI uses when this error reaches it
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(DlcheckError):
    """A bad option or argument that Click itself could not catch."""

    exit_code = 2


class DataError(DlcheckError):
    """A data file is missing, corrupt, truncated or inconsistent."""

    exit_code = 2


class MissingDependency(DlcheckError):
    """An optional package (a framework, matplotlib, Pillow) is not installed."""

    exit_code = 2


class ModelError(DlcheckError):
    """A saved model is missing, corrupt or of the wrong shape."""

    exit_code = 2


class ReportError(DlcheckError):
    """A report file cannot be read or has an unknown schema."""

    exit_code = 2
