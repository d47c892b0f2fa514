"""Exception hierarchy: every error the workbench raises on purpose is a WorkbenchError."""

from __future__ import annotations

__all__ = [
    "WorkbenchError",
    "ServiceError",
    "ValidationError",
    "DataNotFoundError",
    "ImportDataError",
    "MigrationError",
    "StrategyError",
    "ArchiveError",
    "ArchiveIntegrityError",
    "ConfigError",
    "InUseError",
    "InputTypeError",
    "UnknownNameError",
]


class WorkbenchError(Exception):
    """Base class of the workbench's own errors."""


class ServiceError(WorkbenchError):
    """An embedded or configured server could not be started or reached."""


class ValidationError(WorkbenchError, ValueError):
    """An input (symbol, timeframe, time range, file, frame) is not acceptable."""


class DataNotFoundError(WorkbenchError, LookupError):
    """A query that must return data returned none."""


class ImportDataError(WorkbenchError):
    """An import was rejected; nothing of it was written."""


class MigrationError(WorkbenchError):
    """The database schema could not be brought up to date."""


class StrategyError(WorkbenchError):
    """A strategy is malformed, unknown, or produced unusable signals."""


class ArchiveError(WorkbenchError):
    """The Parquet archive could not be read or written."""


class ArchiveIntegrityError(ArchiveError):
    """An archive file is damaged, missing, not recorded, or holds another partition's rows."""


class ConfigError(WorkbenchError):
    """A setting or secret is missing or malformed (e.g. no key to decrypt stored API keys)."""


class InUseError(WorkbenchError):
    """Another process holds what this one needs exclusively (e.g. it is running the same paper run)."""


class InputTypeError(WorkbenchError, TypeError):
    """An argument of the Python API has the wrong type (e.g. not a pandas Series)."""


class UnknownNameError(WorkbenchError, KeyError):
    """A name (a metric, a stored query) is not one of the known ones."""

    def __str__(self) -> str:   # the message as given, not KeyError's quoted repr of it
        return str(self.args[0]) if self.args else ""
