"""The ``filter`` stage's expression language: a SQL boolean expression over a batch's columns.

The text is parsed with sqlglot and compiled node by node into a Polars expression; only the node
types and functions listed here compile, so a table function (``read_csv``), a subquery, a
statement or anything else that could reach a file or the network is refused before any data is
read, and nothing but the compiled expression ever runs. Long ``AND``/``OR`` chains compile flat
(``all_horizontal``/``any_horizontal``), so thousands of terms stay fast; the text's size and its
nesting depth are capped.

>>> import polars as pl
>>> where = parse_where("lang IN ('en', 'fr') AND NOT text LIKE 'spam%'")
>>> where.columns
('lang', 'text')
>>> frame = pl.DataFrame({"lang": ["en", "de", "fr"], "text": ["hi", "ja", "spam!"]})
>>> frame.select(where.compile(frame.schema)).to_series().to_list()
[True, False, False]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl
import sqlglot
from sqlglot import exp

#: Longest accepted expression, in characters (a 3,000-term OR of short comparisons fits).
MAX_CHARS = 100_000
#: Deepest accepted nesting of operators and functions (AND/OR chains count once).
MAX_DEPTH = 64

_INT = {"TINYINT", "SMALLINT", "INT", "BIGINT", "INTEGER", "UTINYINT", "USMALLINT", "UINT"}
_FLOAT = {"FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC"}
_TEXT = {"VARCHAR", "TEXT", "CHAR", "NCHAR", "NVARCHAR", "STRING"}
_COMPARE: dict[type[exp.Expr], Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
    exp.NullSafeEQ: lambda a, b: a.eq_missing(b),
    exp.NullSafeNEQ: lambda a, b: a.ne_missing(b),
    exp.Add: lambda a, b: a + b,
    exp.Sub: lambda a, b: a - b,
    exp.Mul: lambda a, b: a * b,
    exp.Div: lambda a, b: a / b,
    exp.Mod: lambda a, b: a % b,
}
_UNARY: dict[type[exp.Expr], Callable[[pl.Expr], pl.Expr]] = {
    exp.Not: lambda a: ~a,
    exp.Neg: lambda a: -a,
    exp.Lower: lambda a: a.str.to_lowercase(),
    exp.Upper: lambda a: a.str.to_uppercase(),
    exp.Abs: lambda a: a.abs(),
    exp.Floor: lambda a: a.floor(),
    exp.Ceil: lambda a: a.ceil(),
    exp.Sqrt: lambda a: a.sqrt(),
    exp.Ln: lambda a: a.log(),
    exp.ArraySize: lambda a: a.list.len(),
}
#: What the docs list, by the name a user writes.
FUNCTIONS = (
    "length/char_length, lower, upper, trim, abs, round, floor, ceil, sqrt, ln, coalesce, "
    "greatest, least, starts_with, ends_with, contains, strpos, substr, regexp_like, "
    "array_contains, array_length, ||, CAST, TRY_CAST, CASE WHEN, IF"
)


class WhereError(ValueError):
    """The expression is not an accepted filter expression (message says what and how to fix)."""


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _refuse(node: exp.Expr) -> WhereError:
    if node.find(exp.Query, exp.Subquery, exp.Exists, exp.Table, exp.From) is not None:
        what = "a subquery"
    elif isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        what = f"function {name.lower()}()"
    else:
        what = f"{type(node).__name__} ({_short(str(node.key))})"
    return WhereError(
        f"{what} is not allowed in a filter expression: it is a boolean expression over the "
        f"batch's columns (comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, arithmetic and "
        f"{FUNCTIONS})"
    )


def _max_paren_depth(text: str) -> int:
    """Nesting of brackets outside quotes; bounded before parsing, which recurses per level."""
    depth = top = 0
    quote: str | None = None
    for ch in text:
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch in "([":
            depth += 1
            top = max(top, depth)
        elif ch in ")]":
            depth -= 1
    return top


def _like_regex(pattern: str) -> str:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return "(?s)^" + "".join(out) + "$"


@dataclass(frozen=True)
class Where:
    """A parsed, allow-listed filter expression."""

    text: str
    tree: exp.Expr

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the expression reads, in order of appearance."""
        return tuple(dict.fromkeys(c.name for c in self.tree.find_all(exp.Column)))

    def compile(self, types: Mapping[str, pl.DataType]) -> pl.Expr:
        """The Polars expression, for columns of these types (they decide e.g. ``length``)."""
        return _compile(self.tree, types)


def _compile(tree: exp.Expr, types: Mapping[str, pl.DataType] | None) -> pl.Expr:
    try:
        return _Compiler(types).run(tree)
    except WhereError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        # A literal out of range (a huge integer where a count is expected, say).
        raise WhereError(f"cannot compile it ({type(exc).__name__}: {exc})") from None


def parse_where(text: str) -> Where:
    """Parse and allow-list ``text``; raises :class:`WhereError` saying what is refused."""
    if not text.strip():
        raise WhereError("the expression is empty; write e.g. \"lang = 'en'\"")
    if len(text) > MAX_CHARS:
        raise WhereError(
            f"the expression is {len(text):,} characters, more than the {MAX_CHARS:,} accepted; "
            "write long lists of values as `col IN ('a', 'b', ...)`"
        )
    if _max_paren_depth(text) > MAX_DEPTH:
        raise WhereError(f"brackets nest more than {MAX_DEPTH} deep")
    try:
        trees = sqlglot.parse(text)
    except sqlglot.errors.SqlglotError as exc:
        found = getattr(exc, "errors", None) or [{}]
        what = str(found[0].get("description") or str(exc).splitlines()[0] or "syntax error")
        what = re.sub(r" for <class '[^']*'>", "", what)
        col = found[0].get("col")
        at = f" at column {col}" if col else ""
        raise WhereError(f"cannot parse it as SQL{at}: {_short(what, 120)}") from None
    except RecursionError:
        raise WhereError(f"it nests more than {MAX_DEPTH} deep") from None
    found = [t for t in trees if t is not None]
    if len(found) != 1:
        raise WhereError("it holds several statements; write one boolean expression")
    tree: exp.Expr = found[0]
    where = Where(text, tree)
    # Refuse unknown nodes now, before any column type is known.
    _compile(tree, None)
    return where


class _Compiler:
    def __init__(self, types: Mapping[str, pl.DataType] | None) -> None:
        self.types = types
        self.depth = 0

    def run(self, node: object) -> pl.Expr:
        if not isinstance(node, exp.Expression):
            raise WhereError("the expression is incomplete")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise WhereError(f"it nests more than {MAX_DEPTH} deep")
            return self._node(node)
        finally:
            self.depth -= 1

    def _dtype(self, expr: pl.Expr) -> pl.DataType | None:
        if self.types is None:
            return None
        try:
            return pl.DataFrame(schema=dict(self.types)).select(expr).dtypes[0]
        except pl.exceptions.PolarsError:
            return None

    def _literal(self, node: exp.Expr, kind: type) -> object:
        if not isinstance(node, exp.Literal) or (kind is str) != node.is_string:
            what = "a string literal" if kind is str else "a number"
            raise WhereError(f"{_short(node.sql())} must be {what} here")
        return node.this if kind is str else int(node.this)

    def _chain(self, node: exp.Connector) -> list[exp.Expr]:
        """The operands of an AND (or OR) chain, left to right, without recursion."""
        kind = type(node)
        out: list[exp.Expr] = []
        todo: list[exp.Expr] = [node]
        while todo:
            cur = todo.pop()
            while isinstance(cur, exp.Paren) and isinstance(cur.this, kind):
                cur = cur.this
            if isinstance(cur, kind):
                todo += [cur.expression, cur.this]
            else:
                out.append(cur)
        return out

    def _node(self, node: exp.Expr) -> pl.Expr:
        args = {k for k, v in node.args.items() if v not in (None, False, [])}
        if isinstance(node, exp.Paren):
            return self.run(node.this)
        if isinstance(node, (exp.And, exp.Or)):
            terms = [self.run(t) for t in self._chain(node)]
            join = pl.all_horizontal if isinstance(node, exp.And) else pl.any_horizontal
            return join(terms)
        if isinstance(node, exp.Column):
            if args != {"this"} or not isinstance(node.this, exp.Identifier):
                raise WhereError(f"{_short(node.sql())}: name a column of the batch, no table")
            name = node.name
            if name == "*" or (name.startswith("^") and name.endswith("$")):
                raise WhereError(f"{name!r}: name one column (Polars reads this as a pattern)")
            return pl.col(name)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return pl.lit(node.this, pl.String)
            number = node.this
            return pl.lit(int(number) if re.fullmatch(r"\d+", number) else float(number))
        if isinstance(node, exp.Boolean):
            return pl.lit(bool(node.this))
        if isinstance(node, exp.Null):
            return pl.lit(None)
        if type(node) in _COMPARE and args <= {"this", "expression"}:
            return _COMPARE[type(node)](self.run(node.this), self.run(node.expression))
        if type(node) in _UNARY and args == {"this"}:
            return _UNARY[type(node)](self.run(node.this))
        return self._special(node, args)

    def _special(self, node: exp.Expr, args: set[str]) -> pl.Expr:
        this = node.args.get("this")
        if isinstance(node, exp.Is) and args == {"this", "expression"}:
            other = node.expression
            if isinstance(other, exp.Null):
                return self.run(this).is_null()
            if isinstance(other, exp.Boolean):
                return self.run(this).eq_missing(pl.lit(bool(other.this)))
        if isinstance(node, exp.In) and args == {"this", "expressions"}:
            items = node.expressions
            left = self.run(this)
            if all(isinstance(i, exp.Literal) for i in items):
                kinds = {i.is_string for i in items}
                if len(kinds) == 1:
                    values = [i.this for i in items]
                    series = (
                        pl.Series([float(v) for v in values])
                        if kinds == {False}
                        else pl.Series(values, dtype=pl.String)
                    )
                    return left.is_in(series.implode())
            return pl.any_horizontal([left == self.run(i) for i in items])
        if isinstance(node, exp.Between) and args == {"this", "low", "high"}:
            value = self.run(this)
            return (value >= self.run(node.args["low"])) & (value <= self.run(node.args["high"]))
        if isinstance(node, (exp.Like, exp.ILike)) and args <= {"this", "expression", "negate"}:
            regex = _like_regex(str(self._literal(node.expression, str)))
            flag = "(?i)" if isinstance(node, exp.ILike) else ""
            match = self.run(this).str.contains(flag + regex)
            return ~match if node.args.get("negate") else match
        if isinstance(node, exp.DPipe) and args <= {"this", "expression", "safe"}:
            return pl.concat_str([self.run(this), self.run(node.expression)])
        if isinstance(node, exp.RegexpLike) and args == {"this", "expression"}:
            return self.run(this).str.contains(str(self._literal(node.expression, str)))
        if isinstance(node, (exp.Cast, exp.TryCast)) and args <= {"this", "to", "safe", "_type"}:
            return self._cast(node)
        if isinstance(node, (exp.Case, exp.If)):
            return self._case(node, args)
        return self._function(node, args)

    def _cast(self, node: exp.Cast) -> pl.Expr:
        target = str(getattr(node.to.this, "name", ""))
        dtype: pl.DataType
        if target in _INT:
            dtype = pl.Int64()
        elif target in _FLOAT:
            dtype = pl.Float64()
        elif target in _TEXT:
            dtype = pl.String()
        elif target == "BOOLEAN":
            dtype = pl.Boolean()
        else:
            raise WhereError(
                f"CAST to {_short(node.to.sql())} is not supported: cast to BIGINT, DOUBLE, "
                "VARCHAR or BOOLEAN"
            )
        value = self.run(node.this)
        strict = not isinstance(node, exp.TryCast)
        if strict and dtype != pl.String and self._dtype(value) == pl.String:
            raise WhereError(
                f"{_short(node.sql())} stops the run at the first value that does not convert "
                f"to {target}; write TRY_CAST(... AS {target}) instead, which gives null there "
                "(and a null filter result removes the row)"
            )
        return value.cast(dtype, strict=strict)

    def _case(self, node: exp.Expr, args: set[str]) -> pl.Expr:
        if isinstance(node, exp.If) and args <= {"this", "true", "false"}:
            branches = [(self.run(node.this), node.args["true"])]
            default = node.args.get("false")
        elif isinstance(node, exp.Case) and args <= {"this", "ifs", "default"}:
            subject = self.run(node.this) if node.this is not None else None
            branches = []
            for branch in node.args["ifs"]:
                cond = self.run(branch.this)
                branches.append((cond if subject is None else subject == cond, branch.args["true"]))
            default = node.args.get("default")
        else:
            raise _refuse(node)
        otherwise = self.run(default) if default is not None else pl.lit(None)
        first = pl.when(branches[0][0]).then(self.run(branches[0][1]))
        if len(branches) == 1:
            return first.otherwise(otherwise)
        chain = first.when(branches[1][0]).then(self.run(branches[1][1]))
        for cond, value in branches[2:]:
            chain = chain.when(cond).then(self.run(value))
        return chain.otherwise(otherwise)

    def _function(self, node: exp.Expr, args: set[str]) -> pl.Expr:
        this = node.args.get("this")
        if isinstance(node, exp.Length) and args <= {"this", "binary"}:
            value = self.run(this)
            kind = self._dtype(value)
            return value.list.len() if isinstance(kind, pl.List) else value.str.len_chars()
        if isinstance(node, exp.Trim) and args == {"this"}:
            return self.run(this).str.strip_chars()
        if isinstance(node, exp.Round) and args <= {"this", "decimals"}:
            places = node.args.get("decimals")
            return self.run(this).round(int(str(self._literal(places, int))) if places else 0)
        if isinstance(node, (exp.Coalesce, exp.Greatest, exp.Least)) and args <= {
            "this",
            "expressions",
            "ignore_nulls",
        }:
            values = [self.run(this), *(self.run(e) for e in node.expressions)]
            if isinstance(node, exp.Coalesce):
                return pl.coalesce(values)
            return (pl.max_horizontal if isinstance(node, exp.Greatest) else pl.min_horizontal)(
                values
            )
        if isinstance(node, (exp.StartsWith, exp.EndsWith, exp.Contains)) and args == {
            "this",
            "expression",
        }:
            needle = str(self._literal(node.expression, str))
            text = self.run(this)
            if isinstance(node, exp.StartsWith):
                return text.str.starts_with(needle)
            if isinstance(node, exp.EndsWith):
                return text.str.ends_with(needle)
            return text.str.contains(needle, literal=True)
        if isinstance(node, exp.StrPosition) and args == {"this", "substr"}:
            needle = str(self._literal(node.args["substr"], str))
            return self.run(this).str.find(needle, literal=True).fill_null(-1) + 1
        if isinstance(node, exp.Substring) and args <= {"this", "start", "length"}:
            start = int(str(self._literal(node.args["start"], int)))
            length = node.args.get("length")
            size = int(str(self._literal(length, int))) if length is not None else None
            return self.run(this).str.slice(max(start - 1, 0), size)
        if isinstance(node, exp.ArrayContains) and args == {"this", "expression"}:
            return self.run(this).list.contains(self.run(node.expression))
        raise _refuse(node)
