"""The ``fundwatch`` command line.

Exit codes: 0 success (also when rows were quarantined), 2 bad input or usage (one line on
stderr naming the file/dataset and what to do), 1 internal error. No Python traceback reaches
the user for bad data; ``FUNDWATCH_DEBUG=1`` shows tracebacks of internal errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from . import i18n  # messages and help in Chinese or English (the locale, or --lang)

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2

DEMO_PERSONS = 6000
DEMO_SEED = 20251
#: how long a scan waits for the local ephemeral Prefect server to start
EPHEMERAL_STARTUP_SECONDS = 180
#: parts per partitionable rule on a Dask cluster unless --partitions says otherwise.
DASK_PARTITIONS = 4


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line and exits 2."""

    def error(self, message: str) -> None:
        self.exit(EXIT_INPUT, i18n.t("usage_error", msg=message, prog=self.prog) + "\n")


def _examples(text: str) -> str:
    return "examples:\n" + textwrap.indent(textwrap.dedent(text).strip(), "  ")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = _Parser(
        prog="fundwatch",
        description="Ranked leads on public money: one-card subsidies and medical-insurance claims.",
        formatter_class=fmt,
        epilog=_examples(
            """
            fundwatch demo                                 # built-in demo city, end to end
            fundwatch synth city --persons 20000 --seed 7  # make a synthetic city
            fundwatch scan city/input --out run1           # scan it
            fundwatch review FW-0123abcd --status confirmed --note "核实属实" --out run1
            """
        ),
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    p.add_argument("--lang", dest="cli_lang", choices=list(i18n.LANGS), help="message language (default: the locale)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("synth", help="generate a synthetic city with planted anomalies", formatter_class=fmt,
                       description="Write OUT_DIR/input/ (the datasets) and OUT_DIR/labels.parquet (the truth).",
                       epilog=_examples("fundwatch synth city --persons 10000 --seed 1\nfundwatch synth dirty-city --persons 5000 --seed 2 --dirty\nfundwatch synth v1-city --persons 5000 --contract-version 1"))
    s.add_argument("out_dir", metavar="OUT_DIR")
    s.add_argument("--persons", type=int, default=10000, help="number of persons (default 10000)")
    s.add_argument("--seed", type=int, default=0, help="random seed; same seed, same city (default 0)")
    s.add_argument("--dirty", action="store_true", help="GBK CSVs, Chinese headers, .xlsx, monthly folders, bad rows, hostile names")
    s.add_argument("--contract-version", type=int, choices=[1, 2], default=2,
                   help="2 (default): with the data contract's v2 columns and datasets; 1: without them")
    _lang_arg(s)

    s = sub.add_parser("scan", help="load, validate, detect, rank, store and report", formatter_class=fmt,
                       epilog=_examples("fundwatch scan city/input --out run1\nfundwatch scan city/input --out run1 --domain medical --lang en\nfundwatch scan city/input --out run1 --store postgresql+psycopg://user@host/db"))
    _scan_args(s)

    s = sub.add_parser("validate", help="load and validate only (Great Expectations)", formatter_class=fmt,
                       description="Exit 0 when the data is usable, 2 with a summary line when a critical dataset is unusable.",
                       epilog=_examples("fundwatch validate city/input --out checks"))
    s.add_argument("input_dir", metavar="INPUT_DIR")
    s.add_argument("--out", dest="out_dir", required=True, metavar="OUT_DIR")
    s.add_argument("--domain", default="all", choices=["subsidy", "medical", "all"])
    s.add_argument("--settings", dest="settings_file", metavar="FILE", help="TOML/JSON settings overriding defaults")
    _lang_arg(s)

    s = sub.add_parser("demo", help="generate the demo city and scan it end to end", formatter_class=fmt,
                       epilog=_examples("fundwatch demo\nfundwatch demo --out /tmp/fw-demo --lang en"))
    s.add_argument("--out", dest="out_dir", default="fundwatch-demo", metavar="OUT_DIR", help="default ./fundwatch-demo")
    s.add_argument("--persons", type=int, default=DEMO_PERSONS, help=f"city size (default {DEMO_PERSONS})")
    s.add_argument("--lang", default="zh", choices=["zh", "en"])

    s = sub.add_parser("review", help="record a supervisor's decision on a lead", formatter_class=fmt,
                       epilog=_examples('fundwatch review FW-0123abcd --status dismissed --note "已核实为监护人代领" --out run1\nfundwatch review --import run1/leads.xlsx --out run1'))
    s.add_argument("lead_id", nargs="?", metavar="LEAD_ID")
    s.add_argument("--status", type=i18n.status_word, choices=["confirmed", "dismissed", "in_review"])
    s.add_argument("--note", default="")
    s.add_argument("--import", dest="import_path", metavar="XLSX", help="read the disposition column of leads.xlsx")
    s.add_argument("--out", dest="out_dir", metavar="OUT_DIR", help="run folder whose default store to use")
    s.add_argument("--store", dest="store_url", metavar="URL", help="SQLAlchemy URL of the lead store")
    _lang_arg(s)

    _workspace_parsers(sub, fmt)

    s = sub.add_parser("evaluate", help="score a run's leads against a synthetic city's labels", formatter_class=fmt,
                       epilog=_examples("fundwatch evaluate run1 --labels city/labels.parquet"))
    s.add_argument("out_dir", metavar="OUT_DIR")
    s.add_argument("--labels", required=True, metavar="LABELS")
    _lang_arg(s)
    return p


def _lang_arg(s: argparse.ArgumentParser) -> None:
    s.add_argument("--lang", choices=list(i18n.LANGS), help="message language (default: the locale)")


def _scan_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("input_dir", metavar="INPUT_DIR")
    s.add_argument("--out", dest="out_dir", required=True, metavar="OUT_DIR")
    s.add_argument("--store", dest="store_url", metavar="URL", help="lead store URL (default: SQLite OUT_DIR/leads.sqlite)")
    s.add_argument("--domain", default="all", choices=["subsidy", "medical", "all"])
    s.add_argument("--unmask", action="store_true", help="show identity numbers and names whole in readable outputs")
    s.add_argument("--lang", default="zh", choices=["zh", "en"], help="report language (default zh)")
    s.add_argument("--period-start", metavar="YYYY-MM")
    s.add_argument("--period-end", metavar="YYYY-MM")
    s.add_argument("--settings", dest="settings_file", metavar="FILE", help="TOML/JSON settings overriding defaults")
    s.add_argument("--sources", dest="sources_file", metavar="FILE", help="TOML naming SQL tables to read datasets from")
    s.add_argument("--prefect", action="store_true", help="run through the Prefect flow (a Prefect server or a local ephemeral one)")
    s.add_argument("--dask-address", metavar="ADDR", help="run the Prefect flow's detectors on a Dask cluster ('local' for a local one)")
    s.add_argument("--partitions", type=int, metavar="N", help="run partitionable rules in N parts (default 1; 4 with --dask-address)")


def _version() -> str:
    from . import __version__

    return __version__


# ---------------------------------------------------------------------------- commands
def cmd_synth(args) -> int:
    from .synth import generate_city, write_city

    if args.persons < 100:
        raise _usage("--persons must be at least 100", "--persons 至少为 100")
    with _progress("generating the synthetic city"):
        city = generate_city(args.persons, args.seed)
        write_city(city, Path(args.out_dir), dirty=args.dirty, seed=args.seed, contract_version=args.contract_version)
    print(i18n.t("wrote_city", input=Path(args.out_dir) / "input", labels=Path(args.out_dir) / "labels.parquet"))
    return EXIT_OK


def cmd_scan(args) -> int:
    options = dict(
        input_dir=args.input_dir, out_dir=args.out_dir, domain=args.domain, settings_file=args.settings_file,
        partitions=args.partitions or (DASK_PARTITIONS if args.dask_address else None),
        store_url=args.store_url, period_start=args.period_start, period_end=args.period_end,
        unmask=args.unmask, lang=args.lang, sources_file=args.sources_file,
    )
    print_summary(scan(options, prefect=args.prefect, dask_address=args.dask_address))
    return EXIT_OK


def scan(options: dict, prefect: bool = False, dask_address: str | None = None) -> dict:
    """Run one scan with the options of ``fundwatch scan``; return run.json's content.

    In this process by default (:func:`fundwatch.pipeline.run_scan`, no Prefect); through the
    Prefect flow when ``prefect`` or ``dask_address`` asks for it (``local`` = a local Dask cluster).
    """
    from . import pipeline, progress

    request = pipeline.ScanRequest.from_options(**options)  # bad options fail here, before any work
    listener = progress.for_terminal()  # one line per step on a terminal; silent otherwise
    progress.install(listener)
    try:
        if not (prefect or dask_address):
            return pipeline.run_scan(request).record.as_dict()
        _quiet_prefect()
        from fundwatch.flows.scan import run_flow

        return run_flow(options, dask_address=dask_address)
    finally:
        listener.close()
        progress.install(progress.NullProgress())


def cmd_validate(args) -> int:
    from . import pipeline

    settings = pipeline.load_settings(args.settings_file)
    domains = pipeline.parse_domains(args.domain)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _progress("loading"):
        loaded = pipeline.load_step(args.input_dir, domains, settings)
    with _progress("validating"):
        validation = pipeline.validate_step(loaded.datasets, out, settings, loaded)
    counts = pipeline.counts_frame(loaded.counts, validation.quarantine)
    from .loading import write_quarantine

    write_quarantine(out / "quarantine.parquet", pipeline.all_quarantine(loaded.quarantine, validation.quarantine))
    ds, read, acc, q = i18n.HEADS[i18n.current()]
    print(i18n.t("validate_head", ds=ds, read=read, accepted=acc, q=q))
    for r in counts.to_dicts():
        print(f"{r['dataset']:<20}{r['rows_read']:>10}{r['rows_accepted']:>10}{r['rows_quarantined']:>12}")
    if validation.docs_index:
        print(i18n.t("docs", path=validation.docs_index))
    if validation.audit_pages:
        print(i18n.t("audit", path=validation.audit_pages["zh" if i18n.current() == "zh" else "en"]))
    print(f"validation.json: {out / 'validation' / 'validation.json'}")
    if validation.unusable:
        name, why = sorted(validation.unusable.items())[0]
        print(i18n.t("unusable", name=name, why=why), file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def cmd_demo(args) -> int:
    from .synth import generate_city, write_city

    out = Path(args.out_dir)
    city_dir = out / "city"
    with _progress(f"generating a demo city of {args.persons} persons"):
        write_city(generate_city(args.persons, DEMO_SEED), city_dir, dirty=True, seed=DEMO_SEED)
    print_summary(scan(dict(input_dir=str(city_dir / "input"), out_dir=str(out / "run"), lang=args.lang)))
    try:
        from .evaluate import evaluate, format_evaluation
        import polars as pl

        result = evaluate(pl.read_parquet(out / "run" / "leads.parquet"), pl.read_parquet(city_dir / "labels.parquet"))
        print(i18n.t("demo_truth"))
        print(format_evaluation(result))
    except Exception:  # the evaluation is a bonus for the demo, never its failure
        pass
    return EXIT_OK


def cmd_review(args) -> int:
    from .dispositions import import_workbook, review
    from .pipeline import default_store_url

    if not args.store_url and not args.out_dir:
        raise _usage("give --out RUN_DIR (its leads.sqlite) or --store URL", "请给出 --out 运行目录(使用其中的 leads.sqlite)或 --store 线索库地址")
    store = args.store_url or default_store_url(args.out_dir)
    if args.import_path:
        n = import_workbook(store, args.import_path)
        print(i18n.t("imported", n=n, path=args.import_path))
        return EXIT_OK
    if not args.lead_id or not args.status:
        raise _usage("give LEAD_ID and --status confirmed|dismissed|in_review, or --import leads.xlsx",
                     "请给出线索编号和 --status(已确认/已排除/核查中,或 confirmed|dismissed|in_review),或用 --import leads.xlsx 导入")
    review(store, args.lead_id, args.status, args.note)
    print(i18n.t("reviewed", lead=args.lead_id, status=i18n.status_label(args.status)))
    return EXIT_OK


def cmd_evaluate(args) -> int:
    import polars as pl

    from .evaluate import evaluate, format_evaluation

    leads_path = Path(args.out_dir) / "leads.parquet"
    for path, fix, fix_zh in (
        (leads_path, "run 'fundwatch scan' first", "请先运行 fundwatch scan"),
        (Path(args.labels), "pass the labels.parquet written by 'fundwatch synth'", "请给出 fundwatch synth 写出的 labels.parquet"),
    ):
        if not path.exists():
            raise _usage(f"{path} does not exist: {fix}", f"{path} 不存在:{fix_zh}")
    print(format_evaluation(evaluate(pl.read_parquet(leads_path), pl.read_parquet(args.labels))))
    return EXIT_OK


# ------------------------------------------------------------------ the workspace (serve, users)
def _workspace_parsers(sub, fmt) -> None:
    s = sub.add_parser("serve", help="the supervisors' workspace on a lead store (web)", formatter_class=fmt,
                       description="Serve the multi-user review workspace: queue, lead pages, decisions, handover forms, trends.",
                       epilog=_examples("fundwatch serve --store sqlite:///fundwatch-demo/run/leads.sqlite\n"
                                        "fundwatch serve --store postgresql+psycopg://fw@db/leads --host 0.0.0.0 --port 8080"))
    s.add_argument("--store", dest="store_url", required=True, metavar="URL", help="SQLAlchemy URL (or path) of the lead store")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--schema", metavar="NAME", help="PostgreSQL schema of the store (default: the database's default)")
    s.add_argument("--settings", dest="settings_file", metavar="FILE", help="TOML/JSON settings overriding defaults")

    s = sub.add_parser("users", help="manage the workspace's users", formatter_class=fmt,
                       description="The password is read from a prompt, or from standard input when it is not a terminal; never from an argument.",
                       epilog=_examples("fundwatch users add admin --role admin --store sqlite:///fundwatch-demo/run/leads.sqlite\n"
                                        "printf '%s\\n' \"$PASSWORD\" | fundwatch users add wang --role reviewer --store URL\n"
                                        "fundwatch users list --store URL"))
    us = s.add_subparsers(dest="users_command", metavar="ACTION", parser_class=_Parser)
    a = us.add_parser("add", help="add a user (reviewer, leader, auditor or admin)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--role", required=True, choices=["reviewer", "leader", "auditor", "admin"])
    a.add_argument("--store", dest="store_url", required=True, metavar="URL")
    a.add_argument("--schema", metavar="NAME", help="PostgreSQL schema of the store")
    a = us.add_parser("list", help="list the users and their roles")
    a.add_argument("--store", dest="store_url", required=True, metavar="URL")
    a.add_argument("--schema", metavar="NAME", help="PostgreSQL schema of the store")


def cmd_serve(args) -> int:
    from .settings import DEFAULT_SETTINGS, Settings
    from .workspace import serve

    settings = Settings.from_file(args.settings_file) if args.settings_file else DEFAULT_SETTINGS
    if not 0 < args.port < 65536:
        raise _usage(f"--port {args.port} is not a port number (1-65535)", f"--port {args.port} 不是有效端口号(1-65535)")
    print(f"fundwatch workspace on http://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    serve(args.store_url, host=args.host, port=args.port, settings=settings, schema=args.schema)
    return EXIT_OK


def _read_password() -> str:
    """The new password: twice from a prompt on a terminal, else the first line of stdin."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise _usage("the two passwords differ: run the command again", "两次输入的密码不一致:请重新运行该命令")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def cmd_users(args) -> int:
    from .store import LeadStore

    if args.users_command is None:
        raise _usage("give an action: fundwatch users add NAME --role ROLE --store URL, or fundwatch users list --store URL",
                     "请给出操作:fundwatch users add 用户名 --role 角色 --store 线索库地址,或 fundwatch users list --store 线索库地址")
    with LeadStore(args.store_url, schema=args.schema) as store:
        if args.users_command == "list":
            for u in store.users():
                print(f"{u['name']:<24}{u['role']:<10}{'active' if u['active'] else 'disabled':<10}{u['last_login_at'] or '-'}")
            return EXIT_OK
        from .workspace.auth import add_user

        add_user(store, args.name, args.role, _read_password(), created_by=_cli_user())
    print(f"user {args.name} ({args.role}) added to {store.display_url}")
    return EXIT_OK


def _cli_user() -> str:
    from .dispositions import cli_user

    return cli_user()


# ----------------------------------------------------------------------------- helpers
def print_summary(run: dict) -> None:
    """The closing summary: rows, leads by severity, money at risk, where the files are."""
    rows = run["rows"]
    leads = run["leads"]
    sev = leads["by_severity"]
    print(i18n.t("rows", read=f"{rows['read']:,}", accepted=f"{rows['accepted']:,}", quarantined=f"{rows['quarantined']:,}"))
    print(i18n.t("leads", count=f"{leads['count']:,}", high=sev.get("high", 0), medium=sev.get("medium", 0),
                 low=sev.get("low", 0), money=f"{leads['amount_at_risk']:,.2f}"))
    if run["detectors"]["skipped"]:
        print(i18n.t("skipped", names=", ".join(sorted(run["detectors"]["skipped"]))))
    outputs = run.get("outputs", {})
    print(i18n.t("report", path=outputs.get("report", "-")))
    print(i18n.t("workbook", path=outputs.get("workbook", "-")))
    print(i18n.t("leads_file", path=outputs.get("parquet", outputs.get("leads_parquet", "-"))))
    print(i18n.t("run_file", path=Path(run["out_dir"]) / "run.json"))


def _usage(msg: str, zh: str) -> Exception:
    from .errors import InputError

    return InputError(msg, zh=zh)




class _progress:
    """A spinner on stderr while a long step runs; silent when stderr is not a terminal."""

    def __init__(self, label: str):
        self.label = label
        self._status = None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console

            self._status = Console(stderr=True).status(self.label)
            self._status.__enter__()
        return self

    def __exit__(self, *exc):
        if self._status is not None:
            self._status.__exit__(*exc)
        return False


COMMANDS = {
    "synth": cmd_synth,
    "scan": cmd_scan,
    "validate": cmd_validate,
    "demo": cmd_demo,
    "review": cmd_review,
    "evaluate": cmd_evaluate,
    "serve": cmd_serve,
    "users": cmd_users,
}


def _quiet_prefect() -> None:
    # The CLI prints its own summary and one-line errors; Prefect's console handler stays
    # quiet (task failures would otherwise print tracebacks), while every log line still
    # reaches the Prefect API/UI. Users can override with the same environment variable.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    # Without a Prefect server configured, each scan starts a local ephemeral one; on a busy
    # machine it can take longer than Prefect's 20 s default to answer.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(EPHEMERAL_STARTUP_SECONDS))


def main(argv: list[str] | None = None) -> int:
    i18n.install(i18n.cli_lang(sys.argv[1:] if argv is None else argv))
    parser = i18n.localise_parser(build_parser(), i18n.current())
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_INPUT
    from .errors import FundwatchError, InputError, StoreBusyError

    try:
        return COMMANDS[args.command](args)
    except (InputError, StoreBusyError) as exc:
        msg = exc.in_language(i18n.current()) if isinstance(exc, InputError) else exc
        print(i18n.t("error", msg=msg), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(i18n.t("interrupted"), file=sys.stderr)
        return 130
    except Exception as exc:  # last line of defence: no traceback for users
        if os.environ.get("FUNDWATCH_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        if isinstance(exc, FundwatchError):
            print(i18n.t("error", msg=f"{type(exc).__name__}: {first}"), file=sys.stderr)
        else:
            print(i18n.t("internal", kind=type(exc).__name__, msg=first), file=sys.stderr)
        return EXIT_INTERNAL


def entry() -> None:
    """The ``fundwatch`` console script: :func:`main`, then exit.

    Skips the interpreter's teardown when no Prefect (or Dask) code ran: unloading the
    thousands of modules Great Expectations and its dependencies import takes 1-2 s and
    does nothing for the user, since every output is written and closed by then. Where
    Prefect ran, its background services must shut down properly: a normal exit.
    """
    code = main()
    if "prefect" in sys.modules or "distributed" in sys.modules:
        sys.exit(code)
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
