"""Report files in Django's default storage.

A file is written completely under a temporary name first (`partial_file`) and only then
saved under its final name (`save_complete`: one rename with file-system storage), so a
worker killed half-way never leaves a half file where a complete one is expected. The
temporary files of killed workers are removed by housekeeping (`remove_partials`).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from portouts.models import Report
from portouts.reports.errors import FILE_GONE, NO_FILE, ReportFileUnavailable

logger = logging.getLogger(__name__)

PARTIAL_DIR = "reports/.partial"
PARTIAL_PREFIX = "report-"


class _FinishedFile(File):  # type: ignore[type-arg]
    """A complete temporary file: FileSystemStorage moves it into place (one rename)."""

    def __init__(self, path: str, name: str) -> None:
        super().__init__(open(path, "rb"), name=name)  # noqa: SIM115 (closed by the caller)
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


def _partial_dir() -> str:
    """Where files are written before they are complete.

    With file-system storage this is a folder inside it, so the final move is a rename on
    the same file system; other storages get the system's temporary folder.
    """
    try:
        folder = default_storage.path(PARTIAL_DIR)
    except NotImplementedError:
        return tempfile.gettempdir()
    os.makedirs(folder, exist_ok=True)
    return folder


@contextmanager
def partial_file(suffix: str = ".csv.part") -> Iterator[str]:
    """A temporary file's path to write a report to; removed on the way out if still there."""
    fd, path = tempfile.mkstemp(dir=_partial_dir(), prefix=PARTIAL_PREFIX, suffix=suffix)
    os.close(fd)
    try:
        yield path
    finally:
        if os.path.exists(path):
            os.unlink(path)


def save_complete(path: str, name: str) -> str:
    """Save a finished temporary file under its final name in storage; return that name."""
    content = _FinishedFile(path, name=os.path.basename(name))
    try:
        return default_storage.save(name, content)
    finally:
        content.close()


def final_name(report: Report, prefix: str) -> str:
    return f"reports/{prefix}-{timezone.now():%Y%m%d-%H%M%S}-{report.pk.hex[:8]}.csv"


def delete_file(name: str | None) -> None:
    if name:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("Could not delete report file %s", name, exc_info=True)


def remove_partials(*, older_than: datetime) -> int:
    """Delete temporary files last written before `older_than` (left by killed workers)."""
    try:
        folder = default_storage.path(PARTIAL_DIR)
    except NotImplementedError:
        return 0
    if not os.path.isdir(folder):
        return 0
    cutoff = older_than.timestamp()
    removed = 0
    for entry in os.scandir(folder):
        if (
            entry.is_file()
            and entry.name.startswith(PARTIAL_PREFIX)
            and entry.stat().st_mtime < cutoff
        ):
            os.unlink(entry.path)
            removed += 1
    return removed


@dataclass(frozen=True)
class ReportFile:
    """A completed report's file, open for reading, and the name to download it as."""

    handle: Any
    filename: str


def report_file_open(*, report: Report) -> ReportFile:
    """Open a completed report's file for streaming; ReportFileUnavailable when there is none."""
    if report.status != Report.Status.COMPLETED or not report.file.name:
        raise ReportFileUnavailable(NO_FILE)
    try:
        handle = default_storage.open(report.file.name, "rb")
    except FileNotFoundError as exc:
        raise ReportFileUnavailable(FILE_GONE) from exc
    prefix = "telnyx-report" if report.kind == Report.Kind.TELNYX else "portouts"
    return ReportFile(handle=handle, filename=f"{prefix}-{report.created_at:%Y%m%d-%H%M}.csv")
