"""The command line in Chinese or English: help, argparse's own words, and the CLI's messages.

The language is Chinese when ``--lang zh`` is given or, without ``--lang``, when the locale
asks for it (``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` starting with ``zh``); English otherwise.
``fundwatch/cli.py`` declares its parser in English; :func:`localise_parser` translates it
after it is built, so the translation table lives here and the parser's code stays one.
The reports' labels are in :mod:`fundwatch.reports.i18n`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence

LANGS = ("zh", "en")

#: Dispositions as a supervisor writes them on the command line: the codes and the workbook's
#: Chinese labels, exactly (``确认`` is a slip to correct, not a guess to make).
STATUS_WORDS = {
    "confirmed": "confirmed", "dismissed": "dismissed", "in_review": "in_review",
    "已确认": "confirmed", "已排除": "dismissed", "核查中": "in_review",
}

#: Help, descriptions and argparse's own strings: English -> Chinese.
HELP_ZH: dict[str, str] = {
    # argparse
    "usage: ": "用法:",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "the following arguments are required: %s": "缺少必需的参数:%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的取值:%(value)r(可选:%(choices)s)",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s:%(message)s",
    "unrecognized arguments: %s": "无法识别的参数:%s",
    "expected one argument": "需要一个取值",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 取值:%(value)r",
    # fundwatch
    "Ranked leads on public money: one-card subsidies and medical-insurance claims.":
        "惠民惠农财政补贴“一卡通”和医保基金的问题线索排查:按风险排序的问题线索。",
    "generate a synthetic city with planted anomalies": "生成带有预置问题的模拟城市数据",
    "load, validate, detect, rank, store and report": "载入、校验、检测、排序、入库并生成报告",
    "load and validate only (Great Expectations)": "只载入并校验数据(Great Expectations)",
    "generate the demo city and scan it end to end": "生成演示城市并完整排查一遍",
    "record a supervisor's decision on a lead": "记录对一条线索的处置结果",
    "score a run's leads against a synthetic city's labels": "用模拟城市的标注评估一次排查的线索",
    "Write OUT_DIR/input/ (the datasets) and OUT_DIR/labels.parquet (the truth).":
        "写出 OUT_DIR/input/(各数据集)和 OUT_DIR/labels.parquet(预置问题清单)。",
    "number of persons (default 10000)": "人数(默认 10000)",
    "random seed; same seed, same city (default 0)": "随机种子;种子相同,数据相同(默认 0)",
    "GBK CSVs, Chinese headers, .xlsx, monthly folders, bad rows, hostile names":
        "模拟真实导出:GBK 编码 CSV、中文表头、.xlsx、按月文件夹、错误行、恶意姓名",
    "2 (default): with the data contract's v2 columns and datasets; 1: without them":
        "数据规范版本:2(默认)含第2版新增的列和数据集;1 不含",
    "lead store URL (default: SQLite OUT_DIR/leads.sqlite)": "线索库地址(默认:SQLite OUT_DIR/leads.sqlite)",
    "show identity numbers and names whole in readable outputs": "在报告等可读输出中显示完整身份证号和姓名(仅限有权人员)",
    "report language (default zh)": "报告和提示语言(默认 zh 中文)",
    "TOML/JSON settings overriding defaults": "覆盖默认参数的 TOML/JSON 设置文件",
    "TOML naming SQL tables to read datasets from": "指定从哪些数据库表读取数据集的 TOML 文件",
    "run through the Prefect flow (a Prefect server or a local ephemeral one)": "通过 Prefect 流程运行(Prefect 服务器或本地临时服务器)",
    "run the Prefect flow's detectors on a Dask cluster ('local' for a local one)": "在 Dask 集群上运行检测('local' 为本机集群)",
    "run partitionable rules in N parts (default 1; 4 with --dask-address)": "可分片的规则分 N 片运行(默认 1;使用 --dask-address 时为 4)",
    "Exit 0 when the data is usable, 2 with a summary line when a critical dataset is unusable.":
        "数据可用时退出码为 0;关键数据集不可用时退出码为 2 并输出一行说明。",
    "default ./fundwatch-demo": "默认 ./fundwatch-demo",
    "city size (default 6000)": "城市人数(默认 6000)",
    "read the disposition column of leads.xlsx": "读取 leads.xlsx 中的“处置状态”列",
    "run folder whose default store to use": "使用该次排查输出目录中的默认线索库",
    "SQLAlchemy URL of the lead store": "线索库的 SQLAlchemy 地址",
    "message language (default: the locale)": "提示语言(默认随系统语言环境)",
    # example comments
    "examples:": "示例:",
    "# built-in demo city, end to end": "# 内置演示城市,完整跑一遍",
    "# make a synthetic city": "# 生成模拟城市",
    "# scan it": "# 排查",
}

#: Help for options declared without one, by option string.
OPTION_HELP = {
    "--out": ("输出目录", "output folder"),
    "--domain": ("检测领域:subsidy(惠民补贴)、medical(医保基金)或 all(全部)", "detectors to run: subsidy, medical or all"),
    "--period-start": ("只排查从该月起的数据(YYYY-MM)", "first month scanned (YYYY-MM)"),
    "--period-end": ("只排查到该月为止的数据(YYYY-MM)", "last month scanned (YYYY-MM)"),
    "--status": ("处置结果:已确认、已排除、核查中(或 confirmed、dismissed、in_review)",
                 "the decision: confirmed, dismissed, in_review (or 已确认, 已排除, 核查中)"),
    "--note": ("处置说明", "a note on the decision"),
    "--labels": ("模拟城市的 labels.parquet", "the synthetic city's labels.parquet"),
    "--lang": ("语言:zh 中文或 en 英文", "language: zh or en"),
}

#: The CLI's own messages.
MESSAGES: dict[str, tuple[str, str]] = {
    "error": ("fundwatch: 错误:{msg}", "fundwatch: error: {msg}"),
    "internal": ("fundwatch: 内部错误:{kind}: {msg}(设置 FUNDWATCH_DEBUG=1 查看详情)",
                 "fundwatch: internal error: {kind}: {msg} (set FUNDWATCH_DEBUG=1 for details)"),
    "usage_error": ("fundwatch: 错误:{msg}(见 '{prog} --help')", "fundwatch: error: {msg} (see '{prog} --help')"),
    "interrupted": ("fundwatch: 已中断", "fundwatch: interrupted"),
    "rows": ("读取 {read} 行 = 接收 {accepted} 行 + 隔离 {quarantined} 行",
             "rows read {read} = accepted {accepted} + quarantined {quarantined}"),
    "leads": ("问题线索 {count} 条(高风险 {high},中 {medium},低 {low}),涉及金额 {money} 元",
              "{count} leads (high {high}, medium {medium}, low {low}), money at risk {money} CNY"),
    "skipped": ("未运行的检测:{names}", "skipped detectors: {names}"),
    "report": ("报告:    {path}", "report:   {path}"),
    "workbook": ("工作簿:  {path}", "workbook: {path}"),
    "leads_file": ("线索:    {path}", "leads:    {path}"),
    "run_file": ("运行记录:{path}", "run:      {path}"),
    "audit": ("校验说明:{path}", "audit:    {path}"),
    "wrote_city": ("已写出 {input} 和 {labels}", "wrote {input} and {labels}"),
    "imported": ("已从 {path} 导入 {n} 条处置", "imported {n} decision(s) from {path}"),
    "reviewed": ("{lead}:{status}", "{lead}: {status}"),
    "validate_head": ("{ds:<20}{read:>10}{accepted:>10}{q:>12}", "{ds:<20}{read:>10}{accepted:>10}{q:>12}"),
    "docs": ("Data Docs:{path}", "Data Docs: {path}"),
    "unusable": ("fundwatch: 错误:数据集 '{name}' 不可用:{why}", "fundwatch: error: dataset '{name}' is unusable: {why}"),
    "bad_status": ("处置状态 {value!r} 不是 已确认/已排除/核查中(confirmed/dismissed/in_review)之一",
                   "status {value!r} is not one of confirmed/dismissed/in_review (已确认/已排除/核查中)"),
    "demo_truth": ("\n与演示城市的预置问题对照:", "\nAgainst the demo city's planted truth:"),
}
STATUS_ZH = {"confirmed": "已确认", "dismissed": "已排除", "in_review": "核查中", "open": "待处理"}
HEADS = {"zh": ("数据集", "读取", "接收", "隔离"), "en": ("dataset", "read", "accepted", "quarantined")}

_current = "en"


def cli_lang(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``zh`` or ``en``: ``--lang`` in ``argv`` first, then the locale."""
    argv = list(argv or [])
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv) and argv[i + 1] in LANGS:
            return argv[i + 1]
        if a.startswith("--lang=") and a.split("=", 1)[1] in LANGS:
            return a.split("=", 1)[1]
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def install(lang: str) -> None:
    """Use ``lang`` for this process's messages and argparse's own words."""
    global _current
    _current = lang if lang in LANGS else "en"
    argparse._ = _translate  # argparse looks its gettext alias up at call time


def current() -> str:
    return _current


def _translate(text: str) -> str:
    return HELP_ZH.get(text, text) if _current == "zh" else text


def t(key: str, **fmt: object) -> str:
    """The CLI message ``key`` in the current language."""
    zh, en = MESSAGES[key]
    return (zh if _current == "zh" else en).format(**fmt)


def status_word(value: str) -> str:
    """A disposition from the command line (code or Chinese label, exactly) -> its code."""
    code = STATUS_WORDS.get(value.strip())
    if code is None:
        raise argparse.ArgumentTypeError(t("bad_status", value=value))
    return code


def status_label(code: str) -> str:
    return STATUS_ZH.get(code, code) if _current == "zh" else code


def _epilog(text: str) -> str:
    out = text
    for en, zh in HELP_ZH.items():
        if en.startswith(("#", "examples:")):
            out = out.replace(en, zh)
    return out


def localise_parser(parser: argparse.ArgumentParser, lang: str) -> argparse.ArgumentParser:
    """Translate ``parser`` (and its sub-commands) to ``lang`` in place; options declared
    without help get one (:data:`OPTION_HELP`)."""
    i = 0 if lang == "zh" else 1

    def walk(p: argparse.ArgumentParser) -> None:
        if lang == "zh":
            p.description = HELP_ZH.get(p.description, p.description) if p.description else p.description
            p.epilog = _epilog(p.epilog) if p.epilog else p.epilog
        for a in p._actions:
            if a.help is None:
                for opt in a.option_strings:
                    if opt in OPTION_HELP:
                        a.help = OPTION_HELP[opt][i]
                        break
            elif a.help != argparse.SUPPRESS and lang == "zh":
                a.help = HELP_ZH.get(a.help, a.help)
            if isinstance(a, argparse._SubParsersAction):
                for choice in a._choices_actions:
                    if lang == "zh":
                        choice.help = HELP_ZH.get(choice.help, choice.help)
                for sub in a.choices.values():
                    walk(sub)

    walk(parser)
    return parser
