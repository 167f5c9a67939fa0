"""The export's columns: those of Telnyx's own `export_portouts_csv` report, by its names
and in its order (CSV_COLUMNS), each as the text its CSV cell holds, made by the database
(SQLite and PostgreSQL, the two supported ones). No cache bookkeeping is exported.

The cells are formatted as Telnyx's report formats them, so the two kinds of report
read alike: numbers joined with a space, datetimes in ISO 8601 UTC to the millisecond
("2025-03-01T12:00:00.000Z"), a missing value as an empty cell. One difference is ours:
text a spreadsheet would run as a formula goes behind a leading apostrophe.

Django's per-value converters (JSON decoding, and on SQLite datetime parsing) cost more
than the rest of the export, which is why the database hands over the text ready to write.

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
from django.db.models import Func, OuterRef, Subquery, TextField

from portouts.models import PhoneNumber

#: Compiled SQL and its query parameters, as `compiler.compile` returns them.
Fragment = tuple[str, Sequence[Any]]

#: The columns of Telnyx's export_portouts_csv report, in its order.
CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "support_key",
    "status",
    "phone_numbers",
    "carrier_name",
    "spid",
    "pon",
    "end_user_name",
    "authorized_name",
    "service_address",
    "city",
    "state",
    "zip",
    "customer_reference",
    "foc_date",
    "requested_foc_date",
    "rejection_code",
    "reason",
    "created_at",
    "updated_at",
)
#: Telnyx's report joins a port-out's numbers with a space.
LIST_SEPARATOR = " "
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Columns Telnyx itself formats (ids, statuses, E.164 numbers starting with "+", codes
#: and datetimes), left as they are; every other text may come from the gaining carrier.
FORMULA_SAFE_FIELDS = frozenset({"id", "status", "phone_numbers"})
DATETIME_COLUMNS = frozenset({"foc_date", "requested_foc_date", "created_at", "updated_at"})
NUMBER_COLUMNS = frozenset({"rejection_code"})


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
    """A UTC datetime column as Telnyx writes datetimes ("2025-03-01T12:00:00.500Z": ISO
    8601, milliseconds, truncated), made by the database so that no value is parsed and
    formatted again in Python."""

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite stores UTC datetimes as "YYYY-MM-DD HH:MM:SS[.ffffff]"; string functions
        # truncate as Telnyx does (strftime's %f would round).
        return fill(
            "replace(substr({c}, 1, 19), ' ', 'T') || '.' "
            "|| substr(substr({c}, 21) || '000', 1, 3) || 'Z'",
            c=self._column(compiler),
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # to_char's MS truncates the microseconds.
        return fill(
            "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
            c=self._column(compiler),
        )


class JsonListText(DatabaseText):
    """A JSON list column as its values joined with a space (LIST_SEPARATOR), made by the
    database.

    Both databases split the JSON text of a list of plain strings with string functions,
    which keeps the order and costs half what the JSON functions do: with no escapes (no
    backslash) each value brings exactly two quotes, checked, so every '", "' separates two
    values. Anything else goes through the JSON functions (PostgreSQL keeps the order
    explicitly, WITH ORDINALITY).
    """

    #: The JSON text {t} is a list of plain strings ({position} and {backslash}: the
    #: database's strpos and backslash).
    plain_strings = (
        "substr({t}, 1, 2) = '[\"' AND substr({t}, length({t}) - 1) = '\"]' "
        "AND {position}({t}, {backslash}) = 0 "
        # As many quotes as two per value: as many values as '", "' separators plus one.
        "AND (length({t}) - length(replace({t}, '\"', ''))) "
        "= 2 * (((length({t}) - length(replace({t}, '\", \"', ''))) / 4) + 1)"
    )
    joined = "replace(substr({t}, 3, length({t}) - 4), '\", \"', {sep})"
    sqlite = (
        "CASE WHEN {c} IS NULL OR {c} = '[]' THEN '' "
        "WHEN {plain} THEN {joined} "
        "WHEN json_type({c}) = 'array' "
        "THEN (SELECT group_concat(value, {sep}) FROM json_each({c})) "
        "ELSE json_extract({c}, '$') END"
    )
    postgresql = (
        "CASE WHEN {plain} THEN {joined} "
        "ELSE CASE jsonb_typeof({c}) WHEN 'array' THEN coalesce((SELECT string_agg(t.v, "
        "{sep} ORDER BY t.n) FROM jsonb_array_elements_text({c}) "
        "WITH ORDINALITY AS t(v, n)), '') WHEN 'null' THEN '' ELSE {c} #>> '{{}}' END END"
    )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        c = self._column(compiler)
        return self._split(self.sqlite, c=c, t=c, position="instr", backslash="char(92)")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        c = fill("{c}::jsonb", c=self._column(compiler))
        t = fill("({c}::text)", c=c)
        return self._split(self.postgresql, c=c, t=t, position="strpos", backslash="chr(92)")

    def _split(
        self, template: str, *, c: Fragment, t: Fragment, position: str, backslash: str
    ) -> tuple[str, list[Any]]:
        sep = f"'{LIST_SEPARATOR}'"
        plain = fill(self.plain_strings, t=t, position=position, backslash=backslash)
        return fill(template, c=c, plain=plain, joined=fill(self.joined, t=t, sep=sep), sep=sep)


@dataclass(frozen=True)
class ExportColumn:
    """One column of the export: what the query selects for it."""

    #: What values_list selects for it (a field name or an expression giving its text).
    expression: Any
    #: Its text can contain a comma, a quote or a line break (so it may need quoting);
    #: numbers, true/false and ISO datetimes never do.
    quotable: bool = True


def customer_reference() -> Subquery:
    """The customer reference Telnyx holds on the port-out's first number (the inventory),
    formula-safe: the port-out itself does not carry it, Telnyx's report does.

    The guard stands inside the subquery, which so runs once per row (the guard reads its
    text three times)."""
    owner = PhoneNumber.objects.filter(number=OuterRef("first_number"))
    text = owner.annotate(text=FormulaSafeText("customer_reference")).values("text")[:1]
    return Subquery(text, output_field=TextField())


def export_columns(names: tuple[str, ...] = CSV_COLUMNS) -> list[ExportColumn]:
    """The columns of the export, each selected as the text its cell holds."""
    columns = []
    for name in names:
        if name == "phone_numbers":
            columns.append(ExportColumn(JsonListText(name)))
        elif name in DATETIME_COLUMNS:
            columns.append(ExportColumn(IsoDateTimeText(name), quotable=False))
        elif name in NUMBER_COLUMNS:
            columns.append(ExportColumn(name, quotable=False))
        elif name in FORMULA_SAFE_FIELDS:
            columns.append(ExportColumn(name))
        elif name == "customer_reference":
            columns.append(ExportColumn(customer_reference()))
        else:
            columns.append(ExportColumn(FormulaSafeText(name)))
    return columns
