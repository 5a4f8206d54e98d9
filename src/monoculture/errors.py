"""The exception and warning trees of monoculture.

::

    MonocultureError            base of everything this package raises on purpose
    ├── InputError              bad user input (file, table, array, option); the CLI
    │   │                       prints its message and exits with status 2
    │   ├── ReadError           a file that cannot be opened, parsed or is empty
    │   └── SchemaError         a saved JSON of another schema or version
    ├── CallError               a call to an agent's endpoint failed after every retry,
    │                           or every call of a run's step failed
    └── ledger.ProofError       a transparency-log proof or log that does not verify (the
                                ledger commands exit with status 1 on it)

    RuntimeWarning
    ├── UndefinedMetricWarning  a statistic is undefined for this input: returned as NaN
    └── ConvergenceWarning      an iterative fit stopped before converging

Every message names the input, states the rule, shows what was received and says how to
fix it. Library code never uses ``assert`` on user input.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "CallError",
    "ConvergenceWarning",
    "InputError",
    "MonocultureError",
    "ReadError",
    "SchemaError",
    "UndefinedMetricWarning",
    "undefined_messages",
]


class MonocultureError(Exception):
    """Base class of all errors raised deliberately by monoculture."""


class InputError(MonocultureError, ValueError):
    """Input that breaks a stated rule; the message says which and how to fix it."""


class ReadError(InputError):
    """A file that cannot be read: missing, unreadable, empty or of an unknown format."""


class SchemaError(InputError):
    """A saved document whose schema name or version this release does not read."""


class UndefinedMetricWarning(RuntimeWarning):
    """A statistic is undefined for some input (e.g. kappa for an always-right agent) and is
    returned as NaN rather than a misleading number."""


class ConvergenceWarning(RuntimeWarning):
    """An iterative fit (e.g. the Rasch model) reached its iteration limit first."""


class CallError(MonocultureError):
    """A call to an agent's endpoint failed after every retry (the message lists the
    attempts' errors: HTTP status, timeout, malformed answer), or every call of a run's
    step failed (the message gives the first cause)."""


@contextmanager
def undefined_messages() -> Iterator[list[str]]:
    """Collect the `UndefinedMetricWarning` messages raised inside the block, in order, into
    the list it yields (filled when the block ends): a caller shows them as notes, not as
    Python warning lines. Any other warning is passed on as raised.

    Example:
        >>> with undefined_messages() as notes:
        ...     warnings.warn("kappa is NaN", UndefinedMetricWarning, stacklevel=1)
        >>> notes
        ['kappa is NaN']
    """
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndefinedMetricWarning)
        yield messages
    for warning in caught:
        if issubclass(warning.category, UndefinedMetricWarning):
            messages.append(str(warning.message))
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
