"""The CSV engine: a queryset of port-outs written as UTF-8 CSV, streaming.

The bytes are what csv.writer writes with LF line ends (what PostgreSQL's COPY writes)
whichever way they are made. On SQLite, fetching twenty Python values per row and
formatting them caps the export, so the database builds each CSV line (CsvLine) and
Python only joins and writes them. On PostgreSQL, COPY ... TO STDOUT writes the CSV
(_copy_ranges): in key ranges, so progress is stored between two ranges; a list's
filters and order are fixed once in a temporary table of ordinals. With `fast=False`
(and a DISTINCT query) csv.writer writes the rows.
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
from django.db.models import Func, QuerySet, TextField, Value
from django.db.models.functions import NullIf

from portouts.models import PortOut
from portouts.reports.columns import (
    CSV_COLUMNS,
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

    csv.writer's minimal quoting: a cell is quoted only when it contains a comma, a
    quote, CR or LF, quotes inside are doubled, NULL is an empty cell; the line ends with
    LF (LINE_END).
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
        return fill(f"format('{template}' || char(10), {{cells}})", cells=join(cells, ", "))

    def _cell(self, compiler: Any, expression: Any, quotable: bool) -> tuple[str, list[Any]]:
        c = parenthesized(compiler.compile(expression))
        if not quotable:
            return c
        quoted = fill(self.quoted, c=c)
        if not isinstance(expression, JsonListText):
            return quoted
        raw = parenthesized(compiler.compile(expression.source_expressions[0]))
        return fill(self.list_quoted, raw=raw, quoted=quoted, c=c)


#: The export's line end: LF, as PostgreSQL's COPY writes it (it cannot write CRLF).
LINE_END = "\n"


def csv_line(values: Iterable[Any]) -> bytes:
    """One CSV line exactly as csv.writer writes it, in UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=LINE_END).writerow(values)
    return buffer.getvalue().encode("utf-8")


def write_csv(
    queryset: QuerySet[PortOut],
    out: BinaryIO,
    *,
    names: tuple[str, ...] = CSV_COLUMNS,
    on_progress: Callable[[int], None] | None = None,
    every: int = PROGRESS_EVERY,
    fast: bool = True,
) -> int:
    """Write the queryset as UTF-8 CSV to a binary file, streaming; return the row count.

    Lines made by SQLite, COPY on PostgreSQL, or (`fast=False`) the values streamed into
    csv.writer: the same bytes. Memory stays flat whatever the size: rows come in chunks
    and go straight to the file. `on_progress(rows_done)` is called after every `every`
    rows.
    """
    out.write(csv_line(names))
    columns = export_columns(names)
    vendor = connections[queryset.db].vendor
    if fast and vendor == "sqlite":
        batches = _write_lines(queryset, columns, out)
    elif fast and vendor == "postgresql" and not queryset.query.distinct:
        batches = _copy_ranges(queryset, columns, out, size=max(every, COPY_RANGE))
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
        writer = csv.writer(text, lineterminator=LINE_END)
        # csv.writer.writerows runs in C; the batches only make room for progress reports.
        while batch := list(islice(rows, batch_size)):
            writer.writerows(batch)
            yield len(batch)
    finally:
        text.flush()
        text.detach()  # `out` belongs to the caller and stays open


#: Rows per COPY on PostgreSQL; progress is stored between two ranges.
COPY_RANGE = 10_000
_KEYS = "portouts_export_keys"


def _copy_ranges(
    queryset: QuerySet[PortOut], columns: list[ExportColumn], out: BinaryIO, *, size: int
) -> Generator[int]:
    """COPY ... TO STDOUT (FORMAT csv) of the rows, `size` rows at a time; yields the
    rows of each range once written.

    The ids, in the list's order, go first into a temporary table of ordinals (ARRAY()
    keeps a subquery's order), so each range is an index range and the filters run once.
    An empty text becomes NULL, which COPY writes as an empty cell (csv.writer's way).
    The ranges together cost the server about what one bare COPY of the list does; the
    table of ordinals is the rest (see bench/export_csv.py).
    """
    connection = connections[queryset.db]
    try:
        ids_sql, ids_params = queryset.values_list("pk").query.sql_with_params()
    except EmptyResultSet:
        return
    text = TextField()
    select = PortOut.objects.order_by().values_list(
        *(
            NullIf(c.expression, Value(""), output_field=text) if c.quotable else c.expression
            for c in columns
        )
    )
    rows_sql, rows_params = select.query.sql_with_params()
    table = connection.ops.quote_name(PortOut._meta.db_table)
    if not rows_sql.endswith(f"FROM {table}"):  # the columns need no join of their own
        raise NotSupportedError("The export's columns must come from the port-out table alone.")
    # One primary-key lookup per key of the range, in the keys' index order: OFFSET 0
    # keeps the LATERAL subquery a subquery, which the planner would otherwise turn into a
    # join that reads the whole table once per range.
    ranged = (
        f"SELECT r.* FROM {_KEYS} k, LATERAL ({rows_sql} "
        f"WHERE {table}.{connection.ops.quote_name('id')} = k.id OFFSET 0) r "
        "WHERE k.n > %s AND k.n <= %s ORDER BY k.n"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_KEYS}")
        try:
            # Compiling a range's expressions (JIT) costs more than it saves on its rows.
            cursor.execute("SET jit = off")
            # The key is added once the rows are in: one sorted build, not 100,000 inserts.
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_KEYS} AS SELECT id, n "
                f"FROM unnest(ARRAY({ids_sql})) WITH ORDINALITY AS t(id, n)",
                ids_params,
            )
            total = cursor.rowcount
            cursor.execute(f"ALTER TABLE {_KEYS} ADD PRIMARY KEY (n)")
            for start in range(0, total, size):
                params = (*rows_params, start, start + size)
                copy_sql = f"COPY ({ranged}) TO STDOUT WITH (FORMAT csv)"
                with cursor.cursor.copy(copy_sql, params) as copy:
                    while data := copy.read():
                        out.write(data)
                yield min(size, total - start)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {_KEYS}")
            cursor.execute("RESET jit")
