"""Every failure a user can cause is one of these; the CLI catches them once and prints them without a traceback."""

from __future__ import annotations


class RiskkitError(Exception):
    """Base class for errors caused by input, parameters or environment (not by bugs)."""

    exit_code: int = 2


class InvalidDataPack(RiskkitError):
    """The data pack failed validation; ``report`` holds every problem found."""

    def __init__(self, report) -> None:  # report: riskkit.validation.ValidationReport
        self.report = report
        super().__init__(report.summary_line())


class FrameworkError(RiskkitError):
    """A framework file is malformed or inconsistent (duplicate ids, dangling references, missing labels)."""

    problems: tuple[str, ...] = ()


class CycleError(RiskkitError):
    """An unknown or malformed reporting-cycle id, or a cycle that does not fit the request."""


class EngineError(RiskkitError):
    """An engine or warehouse backend cannot be used: unknown name, missing package, unreachable, bad table."""


class ParameterError(RiskkitError):
    """A command-line or notebook parameter is invalid."""


class WriteFailed(RiskkitError):
    """Writing an output failed part-way (disk full, file system gone read-only…); what was half-written has been
    removed and nothing written before is lost."""

    exit_code = 1


class Interrupted(BaseException):
    """A signal (SIGTERM) stopped riskkit. A BaseException like KeyboardInterrupt (SIGINT), so that no
    ``except Exception`` swallows it; the exit code is 128 + the signal number (143 for SIGTERM)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum


class RunFailed(RiskkitError):
    """A cycle run executed but at least one notebook failed (``result`` holds the run, kept as failed-*)."""

    exit_code = 1

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result
