"""The CSV engine: a queryset of port-outs written as UTF-8 CSV, streaming.

The bytes are what csv.writer writes whichever way they are made. On SQLite, fetching
some thirty Python values per row and formatting them caps the export, so the database
builds each CSV line (CsvLine) and Python only joins and writes them. On PostgreSQL the
same SQL measured slower than fetching the columns' text into csv.writer
(bench/export_csv.py), so there, and with `fast=False`, csv.writer writes the rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from itertools import islice
from typing import Any, BinaryIO

from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError, connections
from django.db.models import Func, QuerySet, TextField

from portouts.models import PortOut
from portouts.reports.columns import (
    EXPORT_FIELDS,
    ExportColumn,
    JsonListText,
    export_columns,
    fill,
    join,
    parenthesized,
)

#: Rows fetched from the database per round trip while exporting.
CHUNK_SIZE = 2000
#: Progress (rows_done, heartbeat_at) is written to the report every this many rows.
PROGRESS_EVERY = 2000


class CsvLine(Func):
    """Columns as one CSV line, made by SQLite exactly as csv.writer writes it.

    csv.writer's defaults: a cell is quoted only when it contains a comma, a quote, CR
    or LF, quotes inside are doubled, NULL is an empty cell and the line ends with CRLF.
    One format() call builds the line (NULL gives an empty string for %s): cheaper than
    a chain of ||.
    """

    output_field = TextField()
    #: Quoted (quotes inside doubled) when it holds a comma, a quote, LF or CR. One GLOB
    #: over a constant pattern reads the cell once, where an instr() per special character
    #: would read (and, for a computed cell, compute) it four times.
    quoted = (
        "CASE WHEN {c} GLOB ('*[,\"' || char(10, 13) || ']*') "
        "THEN '\"' || replace({c}, '\"', '\"\"') || '\"' ELSE {c} END"
    )
    #: A list's text is dear to make, and the full check reads it six times. Its JSON
    #: tells cheaply when it needs no quotes: without a backslash (no escapes) no value
    #: holds a quote, CR or LF, so only a comma inside a value (not a '", "' between
    #: values) can call for quotes.
    list_quoted = (
        "CASE WHEN instr({raw}, char(92)) OR instr(replace({raw}, '\", \"', ''), ',') "
        "THEN {quoted} ELSE {c} END"
    )

    def __init__(self, columns: list[ExportColumn]) -> None:
        super().__init__(*(column.expression for column in columns))
        self.quotable = [column.quotable for column in columns]

    def as_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("CSV lines are made in SQL on SQLite only.")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        cells = [
            self._cell(compiler, expression, quotable)
            for expression, quotable in zip(self.source_expressions, self.quotable, strict=True)
        ]
        # "%%s": Django turns "%s" into a placeholder and "%%" into "%".
        template = ",".join(["%%s"] * len(cells))
        return fill(f"format('{template}' || char(13, 10), {{cells}})", cells=join(cells, ", "))

    def _cell(self, compiler: Any, expression: Any, quotable: bool) -> tuple[str, list[Any]]:
        c = parenthesized(compiler.compile(expression))
        if not quotable:
            return c
        quoted = fill(self.quoted, c=c)
        if not isinstance(expression, JsonListText):
            return quoted
        raw = parenthesized(compiler.compile(expression.source_expressions[0]))
        return fill(self.list_quoted, raw=raw, quoted=quoted, c=c)


def csv_line(values: Iterable[Any]) -> bytes:
    """One CSV line exactly as csv.writer writes it, in UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue().encode("utf-8")


def write_csv(
    queryset: QuerySet[PortOut],
    out: BinaryIO,
    *,
    fields: tuple[str, ...] = EXPORT_FIELDS,
    on_progress: Callable[[int], None] | None = None,
    every: int = PROGRESS_EVERY,
    fast: bool = True,
) -> int:
    """Write the queryset as UTF-8 CSV to a binary file, streaming; return the row count.

    Lines made by SQLite, or (PostgreSQL, `fast=False`) the values streamed into
    csv.writer: the same bytes. Memory stays flat whatever the size: rows come in chunks
    and go straight to the file. `on_progress(rows_done)` is called after every `every`
    rows.
    """
    out.write(csv_line(fields))
    columns = export_columns(fields)
    if fast and connections[queryset.db].vendor == "sqlite":
        batches = _write_lines(queryset, columns, out)
    else:
        batches = _write_rows(queryset, columns, out, batch_size=every)
    done = reported = 0
    # closing(): a failing on_progress still closes the cursor and detaches `out` at once.
    with closing(batches):
        for written in batches:
            done += written
            if on_progress is not None and done - reported >= every:
                on_progress(done)
                reported = done
    return done


def _write_lines(
    queryset: QuerySet[PortOut], columns: list[ExportColumn], out: BinaryIO
) -> Generator[int]:
    """Lines made by the database (CsvLine), fetched in chunks, joined and written; yields
    the rows of each chunk once written."""
    connection = connections[queryset.db]
    query = queryset.values_list(CsvLine(columns)).query
    try:
        sql, params = query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # a filter that can match nothing (e.g. an empty "in")
        return
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(CHUNK_SIZE):
            # The line is the first column (DISTINCT adds the ORDER BY columns after it).
            out.write("".join([row[0] for row in batch]).encode("utf-8"))
            yield len(batch)


def _write_rows(
    queryset: QuerySet[PortOut], columns: list[ExportColumn], out: BinaryIO, *, batch_size: int
) -> Generator[int]:
    """Rows as tuples from a chunked iterator, written by csv.writer in batches; yields the
    rows of each batch once written."""
    rows: Iterator[Any] = queryset.values_list(*(column.expression for column in columns)).iterator(
        chunk_size=CHUNK_SIZE
    )
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        writer = csv.writer(text)
        # csv.writer.writerows runs in C; the batches only make room for progress reports.
        while batch := list(islice(rows, batch_size)):
            writer.writerows(batch)
            yield len(batch)
    finally:
        text.flush()
        text.detach()  # `out` belongs to the caller and stays open
