"""The export's columns: each model field as the text its CSV cell holds, made by the
database (SQLite and PostgreSQL, the two supported ones).

Django's per-value converters (JSON decoding, and on SQLite datetime parsing) cost more
than the rest of the export, so the database hands over text ready to write: datetimes
in ISO 8601, booleans as true/false, JSON lists joined with ";", and text a spreadsheet
would run as a formula behind a leading apostrophe.

SQL is put together with `fill`, which binds each fragment's query parameters where the
fragment stands: a column used four times in a template brings its parameters four times,
in the order of the placeholders, without anyone counting them.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import NotSupportedError
from django.db.models import Case, Func, TextField, Value, When

from portouts.models import PortOut

#: Compiled SQL and its query parameters, as `compiler.compile` returns them.
Fragment = tuple[str, Sequence[Any]]

#: Every column of the cache except `raw` (the API object the other columns come from).
EXPORT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in PortOut._meta.concrete_fields if f.name != "raw"
)
LIST_SEPARATOR = ";"
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Text columns Telnyx itself formats (E.164 numbers start with "+"), left as they are.
FORMULA_SAFE_FIELDS = frozenset({"id", "first_number", "status", "country_code"})
NUMBER_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallAutoField",
        "SmallIntegerField",
    }
)


def fill(template: str, **parts: Fragment | str) -> tuple[str, list[Any]]:
    """The template with each `{name}` replaced by that fragment's SQL, and the parameters
    of every replacement in the order they stand. A str part is SQL without parameters;
    `{{` and `}}` are literal braces."""
    sql: list[str] = []
    params: list[Any] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        sql.append(literal)
        if name is None:
            continue
        part = parts[name]
        fragment, fragment_params = (part, ()) if isinstance(part, str) else part
        sql.append(fragment)
        params.extend(fragment_params)
    return "".join(sql), params


def join(fragments: Iterable[Fragment], separator: str) -> tuple[str, list[Any]]:
    """Fragments joined by a separator, their parameters in the same order."""
    sql: list[str] = []
    params: list[Any] = []
    for fragment, fragment_params in fragments:
        sql.append(fragment)
        params.extend(fragment_params)
    return separator.join(sql), params


def parenthesized(fragment: Fragment) -> tuple[str, list[Any]]:
    sql, params = fragment
    return f"({sql})", list(params)


class DatabaseText(Func):
    """An expression whose text the supported databases make; elsewhere it refuses to run
    rather than give other bytes than csv.writer would."""

    output_field = TextField()

    def as_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError(f"{type(self).__name__} has SQL for SQLite and PostgreSQL only.")

    def _column(self, compiler: Any) -> tuple[str, list[Any]]:
        """The one source expression, compiled and parenthesized."""
        return parenthesized(compiler.compile(self.source_expressions[0]))


def neutralize_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, with a leading apostrophe so it shows as
    text. End-user names, PONs and reasons come from the gaining carrier.

    The reference for FormulaSafeText, which does the same in SQL."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class FormulaSafeText(DatabaseText):
    """The database's version of neutralize_formula, so SQL-built lines get it too."""

    #: '''' is SQL for the text "'".
    guarded = "CASE WHEN {starts} THEN '''' || {c} ELSE {c} END"

    def _guarded(self, compiler: Any, starts: str) -> tuple[str, list[Any]]:
        c = self._column(compiler)
        return fill(self.guarded, starts=fill(starts, c=c), c=c)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # One GLOB over a constant pattern: cheaper per row than substr() IN (...).
        return self._guarded(compiler, "{c} GLOB ('[-=+@' || char(9, 13) || ']*')")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self._guarded(compiler, "substr({c}, 1, 1) IN ('=', '+', '-', '@', chr(9), chr(13))")


class IsoDateTimeText(DatabaseText):
    """A UTC datetime column as ISO 8601 text ("2025-03-01T12:00:00+00:00"), made by the
    database so that no value is parsed and formatted again in Python."""

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite stores UTC datetimes as "YYYY-MM-DD HH:MM:SS[.ffffff]".
        return Func.as_sql(
            self, compiler, connection, template="replace(%(expressions)s, ' ', 'T') || '+00:00'"
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Like Python's isoformat(): six digits of microseconds when there are any
        # (PostgreSQL's own text drops trailing zeros: "12:00:00.5").
        utc = fill("({c} AT TIME ZONE 'UTC')", c=self._column(compiler))
        return fill(
            "to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            "|| CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' "
            "ELSE to_char({utc}, '.US') END || '+00:00'",
            utc=utc,
        )


class JsonListText(DatabaseText):
    """A JSON list column as its values joined with ";", made by the database.

    PostgreSQL keeps the order explicitly (WITH ORDINALITY). SQLite splits the JSON text
    of a list of plain strings (no escapes: each value brings exactly two quotes, checked)
    with string functions, which keeps the order; anything else goes through json_each.
    """

    sqlite = (
        "CASE WHEN {c} IS NULL OR {c} = '[]' THEN '' "
        "WHEN substr({c}, 1, 2) = '[\"' AND substr({c}, -2) = '\"]' "
        "AND instr({c}, char(92)) = 0 "
        # As many quotes as two per value: as many values as '", "' separators plus one.
        "AND (length({c}) - length(replace({c}, '\"', ''))) "
        "= 2 * (((length({c}) - length(replace({c}, '\", \"', ''))) / 4) + 1) "
        "THEN replace(substr({c}, 3, length({c}) - 4), '\", \"', {sep}) "
        "WHEN json_type({c}) = 'array' "
        "THEN (SELECT group_concat(value, {sep}) FROM json_each({c})) "
        "ELSE json_extract({c}, '$') END"
    )
    postgresql = (
        "CASE jsonb_typeof({c}) WHEN 'array' THEN coalesce((SELECT string_agg(t.v, "
        "{sep} ORDER BY t.n) FROM jsonb_array_elements_text({c}) "
        "WITH ORDINALITY AS t(v, n)), '') WHEN 'null' THEN '' ELSE {c} #>> '{{}}' END"
    )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return fill(self.sqlite, c=self._column(compiler), sep=f"'{LIST_SEPARATOR}'")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        c = fill("{c}::jsonb", c=self._column(compiler))
        return fill(self.postgresql, c=c, sep=f"'{LIST_SEPARATOR}'")


@dataclass(frozen=True)
class ExportColumn:
    """One column of the export: what the query selects for it."""

    #: What values_list selects for it (a field name or an expression giving its text).
    expression: Any
    #: Its text can contain a comma, a quote or a line break (so it may need quoting);
    #: numbers, true/false and ISO datetimes never do.
    quotable: bool = True


def export_columns(fields: tuple[str, ...] = EXPORT_FIELDS) -> list[ExportColumn]:
    """The columns of the export, each selected as the text its cell holds."""
    columns = []
    for name in fields:
        internal = PortOut._meta.get_field(name).get_internal_type()
        if internal == "JSONField":
            columns.append(ExportColumn(JsonListText(name)))
        elif internal == "DateTimeField":
            columns.append(ExportColumn(IsoDateTimeText(name), quotable=False))
        elif internal == "BooleanField":
            flag = Case(When(**{name: True}, then=Value("true")), default=Value("false"))
            columns.append(ExportColumn(flag, quotable=False))
        elif internal in NUMBER_FIELDS:
            columns.append(ExportColumn(name, quotable=False))
        elif name in FORMULA_SAFE_FIELDS:
            columns.append(ExportColumn(name))
        else:
            columns.append(ExportColumn(FormulaSafeText(name)))
    return columns
