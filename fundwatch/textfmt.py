"""Numbers as text in evidence, titles and explanations, vectorised (polars expressions).

One place for it, so that a supervisor reads ``1,640.00`` the same way in every detector's
evidence and every lead's title.
"""

from __future__ import annotations

import re

import polars as pl


def money(expr: pl.Expr) -> pl.Expr:
    """CNY text with thousands separators and two decimals: ``1640`` -> ``1,640.00``."""
    cents = (expr.abs() * 100).round(0).cast(pl.Int64)
    integer = (cents // 100).cast(pl.String)
    grouped = integer.str.reverse().str.replace_all(r"(\d{3})", "${1},").str.strip_suffix(",").str.reverse()
    frac = (cents % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return sign + grouped + pl.lit(".") + frac


def num(expr: pl.Expr) -> pl.Expr:
    """A quantity as short text: ``3.0`` -> ``3``, ``2.5`` -> ``2.5``, ``2.345`` -> ``2.35``."""
    r = expr.round(2)
    return pl.when(r == r.floor()).then(r.cast(pl.Int64).cast(pl.String)).otherwise(r.cast(pl.String))


def age_on(birth: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Age in whole years on ``day`` of a person born on ``birth`` (birthday counts on the day)."""
    before_birthday = (day.dt.month() < birth.dt.month()) | (
        (day.dt.month() == birth.dt.month()) & (day.dt.day() < birth.dt.day())
    )
    return (day.dt.year().cast(pl.Int64) - birth.dt.year().cast(pl.Int64)) - before_birthday.cast(pl.Int64)


# -- tidying whole sentences ----------------------------------------------------------------
#: A date ``2025-03-07`` or a period ``2025-03``.
_DAY_OR_MONTH = r"\d{4}-\d{2}(?:-\d{2})?"
#: Han characters.
_HAN = r"\p{Han}"
#: Full-width punctuation (,。;:()、“”《》 …): never a space beside it.
_CJK_PUNCT = r"[\x{3000}-\x{303F}\x{FF00}-\x{FFEF}\x{2018}-\x{201F}]"


def _collapse_ranges(expr: pl.Expr, joiner: str, join_out: str) -> pl.Expr:
    """``A <joiner> B`` with ``A == B`` becomes ``A`` (a range of one day or month is one date).

    Rust's regex has no back-references, so the ranges are cut out and compared as list
    elements: each range is wrapped in control characters, the text split before each one,
    and every piece that starts with a range is rebuilt.
    """
    pattern = rf"({_DAY_OR_MONTH}){joiner}({_DAY_OR_MONTH})"
    marked = expr.str.replace_all(pattern, "\x01${1}\x02${2}\x03")
    e = pl.element()
    a = e.str.extract(r"^([^\x02]*)\x02", 1)
    b = e.str.extract(r"\x02([^\x03]*)\x03", 1)
    rest = e.str.extract(r"(?s)\x03(.*)$", 1).fill_null("")
    rebuilt = (
        pl.when(e.str.contains("\x02"))
        .then(pl.when(a == b).then(a).otherwise(a + pl.lit(join_out) + b) + rest)
        .otherwise(e)
    )
    return marked.str.split("\x01").list.eval(rebuilt).list.join("")


def _drop_point_zero(expr: pl.Expr) -> pl.Expr:
    """``数量 1.0`` -> ``数量 1``: a whole number printed as a float loses its ``.0``."""
    return expr.str.replace_all(r"(\d)\.0(\D|$)", "${1}${2}")


def tidy_zh(expr: pl.Expr) -> pl.Expr:
    """A Chinese sentence as a supervisor expects to read it, vectorised.

    * no space between two Han characters (``在 某卫生院 同日`` -> ``在某卫生院同日``) nor
      beside full-width punctuation (``元 ,`` -> ``元,``); the space between Chinese and a
      number or Latin word stays (``统筹支付 8.00 元``), as Chinese typesetting (W3C clreq) does;
    * a range whose two ends are the same is one date (``2025-08-25 至 2025-08-25`` ->
      ``2025-08-25``);
    * whole numbers without ``.0`` (``数量 1.0`` -> ``数量1``).

    Applied to whole evidence sentences by the detectors' shared ``finish`` helpers (and by
    the reports to titles and explanations), so every rule's text reads the same way.
    """
    out = _collapse_ranges(expr, r"\s*至\s*", " 至 ")
    out = out.str.replace_all(rf"({_HAN})[ \t]+({_HAN})", "${1}${2}")
    out = out.str.replace_all(rf"({_HAN})[ \t]+({_HAN})", "${1}${2}")  # overlapping pairs: "甲 乙 丙"
    out = out.str.replace_all(rf"({_CJK_PUNCT})[ \t]+", "${1}").str.replace_all(rf"[ \t]+({_CJK_PUNCT})", "${1}")
    return _drop_point_zero(out)


def tidy_en(expr: pl.Expr) -> pl.Expr:
    """The English counterpart of :func:`tidy_zh`: one date for an empty range, no ``.0``,
    single spaces."""
    out = _collapse_ranges(expr, r"\s+to\s+", " to ")
    out = out.str.replace_all(r"[ \t]{2,}", " ").str.replace_all(r" ([,;:.)])", "${1}")
    return _drop_point_zero(out)


# -- the loader's reasons in Chinese ---------------------------------------------------------
#: The loader's reasons (fundwatch.normalize, fundwatch.idnumber, fundwatch.readers) as
#: patterns, with their Chinese wording. The loader speaks English (its messages go to logs
#: and run.json); readers of the reports get them in their language.
LOADER_REASONS_ZH: tuple[tuple[str, str], ...] = (
    (r"^required value is empty$", "必填项为空"),
    (r"^blank row$", "空行"),
    (r"^row has (\d+) fields but the header has (\d+)$", r"该行有 \1 个字段,表头有 \2 个"),
    (r"^not a date \(.*\)$", "不是有效日期(应为 2025-03-07、20250307、2025/3/7 或 2025年3月7日)"),
    (r"^not a period \(.*\)$", "不是有效期间(应为 2025-03、202503、2025/03 或 2025年3月)"),
    (r"^not an amount \(.*\)$", "不是有效金额(应为 1234.50、1,234.50、¥1234.5 或 1234.50元)"),
    (r"^not a number$", "不是数字"),
    (r"^not a whole number$", "不是整数"),
    (r"^whole number beyond ±(.+)$", r"整数超出 ±\1"),
    (r"^(.+) is not a finite number$", r"不是有限数值"),
    (r"^(.+) beyond ±(.+)$", r"数值超出 ±\2"),
    (r"^not a gender \(.*\)$", "不是有效性别(应为 M/F、男/女 或 1/2)"),
    (r"^not a yes/no value \(.*\)$", "不是有效的是/否值(应为 true/false、1/0、是/否 或 Y/N)"),
    (r"^not one of (.+)$", r"不在允许的取值中(\1)"),
    (r"^value longer than (\d+) bytes$", r"值超过 \1 字节"),
    (r"^value contains a NUL byte$", "值含有空字符(NUL)"),
    (r"^year (\S+) outside (\d+)-(\d+)$", r"年份 \1 超出 \2–\3"),
    (r"^region code must be (\d+) digits$", r"区划代码应为 \1 位数字"),
    (r"^not an Excel date serial number$", "不是 Excel 日期序号"),
    (r"^identity number is empty$", "身份证号为空"),
    (r"^identity number must be 17 digits and a digit or X$", "身份证号应为 17 位数字加 1 位数字或 X"),
    (r"^identity number has no real birth date.*$", "身份证号中的出生日期不存在"),
    (r"^identity number check character is wrong.*$", "身份证号校验位错误(GB 11643)"),
)



def loader_reason_zh(reason: str) -> str | None:
    """A reason of the loader (fundwatch.normalize, fundwatch.idnumber, fundwatch.readers) in
    Chinese, or None when it is not one of them."""
    for pattern, zh in LOADER_REASONS_ZH:
        if re.match(pattern, reason):
            return re.sub(pattern, zh, reason)
    return None
