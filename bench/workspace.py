"""Benchmark of the supervisors' workspace: 20 concurrent users on a PostgreSQL store of 100,000 leads.

    python bench/workspace.py [--leads 100000] [--baseline-leads 1000] [--users 20]
                              [--rounds 25] [--think-ms 500] [--pg URL]

Builds two PostgreSQL stores in throw-away schemas (synthetic leads written with the store's own
``write_run``; two runs so that "new since the previous run" means something; a few thousand
decisions so that the status and assignee filters and the history have rows), starts the real
server (``fundwatch serve`` in a child process) on each, and lets ``--users`` signed-in users
(reviewers, leaders, auditors) browse at once: each round a queue page (filters, sorts, search
by identity-number prefix, name or record id, deep pages) and a lead page, with a think time
drawn uniformly from 0..2x``--think-ms`` between requests. Prints p50/p95/max per page type on
the big store, the same pages on the ``--baseline-leads`` store and a static file measured in
the same run, their ratios, and writes ``bench/results/workspace.json``. Traffic goes to
127.0.0.1 only; the request loop is bounded (users x rounds x 2 requests). Schemas are dropped
at the end.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import PYTHON, RESULTS, machine_info, table, write_json

PASSWORD = "bench password 1"
RULES = ("DECEASED_PAYEE", "DUPLICATE_PAYMENT", "OVER_STANDARD", "OFFICIAL_RECIPIENT", "GHOST_BENEFICIARY",
         "CLAIM_AFTER_DEATH", "GENDER_LIMIT", "EXCESS_QUANTITY", "OVERLAPPING_STAYS", "INSTITUTION_OUTLIER")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def synthetic_run(n: int, seed: int, first: int = 0):
    """``n`` leads (ids ``first``..) and 3 evidence records each, deterministic."""
    import polars as pl

    from fundwatch.contract import LEADS_SCHEMA

    rng = random.Random(seed)
    leads, ev = [], []
    for i in range(first, first + n):
        pid = f"{110100 + i % 97:06d}19{50 + i % 50:02d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}{i % 10}"
        rule = RULES[i % len(RULES)]
        medical = RULES.index(rule) >= 5
        recs = [f"{'C' if medical else 'D'}{i:07d}{k}" for k in range(3)]
        amount = round(rng.lognormvariate(7, 1.2), 2)
        name = SURNAMES[i % len(SURNAMES)] + "某" + "甲乙丙丁戊"[i % 5]
        leads.append({
            "lead_id": f"FW-{i:016x}", "rank": 0, "score": rng.random(), "severity": ("high", "medium", "low")[i % 3],
            "domain": "medical" if medical else "subsidy", "entity_type": "person", "entity_id": pid, "rule_codes": [rule],
            "title": f"{rule}:{pid} 共 3 笔 {amount:,.2f} 元", "amount_at_risk": amount,
            "period_start": f"2025-{1 + i % 6:02d}", "period_end": f"2025-{7 + i % 6:02d}",
            "region_code": f"1101{i % 16:02d}{i % 50:03d}{i % 7:03d}", "record_ids": recs,
            "explanation": f"{name}({pid})在其死亡后仍有 3 笔记录,合计 {amount:,.2f} 元。",
        })
        for k, rec in enumerate(recs):
            ev.append({"lead_id": f"FW-{i:016x}", "record_id": rec, "record_type": "claim" if medical else "disbursement",
                       "date": f"2025-{1 + k:02d}-15", "person_id": pid, "name": name, "counterparty": "最低生活保障",
                       "amount": round(amount / 3, 2), "description": f"所属期 2025-{1 + k:02d}"})
    frame = pl.DataFrame(leads, schema=LEADS_SCHEMA).sort("score", descending=True)
    frame = frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"))
    return frame, pl.DataFrame(ev)


def build_store(pg: str, schema: str, n: int, log) -> dict:
    """Two runs (90 % then all of ``n`` leads), some decisions, the bench users."""
    from fundwatch.store import LeadStore
    from fundwatch.workspace.auth import add_user

    t = time.perf_counter()
    st = LeadStore(pg, schema=schema)
    leads, ev = synthetic_run(n, seed=n)
    old = leads.sample(fraction=0.9, seed=n).sort("rank")  # the new 10 % spread over the ranks
    st.write_run({"run_id": "bench-1"}, old, ev.filter(ev["lead_id"].is_in(old["lead_id"].implode())), None)
    st.write_run({"run_id": "bench-2"}, leads, ev, None)
    names = {"reviewer": [f"rev{i:02d}" for i in range(14)], "leader": [f"lead{i}" for i in range(4)], "auditor": ["aud0", "aud1"]}
    for role, users in names.items():
        for u in users:
            add_user(st, u, role, PASSWORD, created_by="bench")
    # decisions on 3 % of the leads: assigned to reviewers, a third of them confirmed
    ids = leads["lead_id"].to_list()
    rng = random.Random(1)
    picked = rng.sample(ids, max(1, len(ids) * 3 // 100))
    st.decide_many([{"lead_id": lid, "to_status": "assigned", "note": "批量分派", "assignee": names["reviewer"][i % 14]}
                    for i, lid in enumerate(picked)], actor="lead0", source="web")
    st.decide_many([{"lead_id": lid, "to_status": "confirmed", "note": "属实", "confirmed_amount": 100.0}
                    for lid in picked[: len(picked) // 3]], actor="lead0", source="web")
    st.close()
    log(f"store {schema}: {n:,} leads in two runs, {len(picked):,} decisions, built in {time.perf_counter() - t:.1f} s")
    return {"ids": ids, "pids": leads["entity_id"].to_list(), "names": names}


def reuse_store(pg: str, schema: str, n: int, log) -> dict | None:
    """The data of a store kept by an earlier ``--keep`` run, or None when there is none."""
    import sqlalchemy as sa

    eng = sa.create_engine(pg)
    try:
        with eng.connect() as c:
            if not sa.inspect(c).has_table("users", schema=schema):
                return None
    finally:
        eng.dispose()
    leads, _ = synthetic_run(n, seed=n)
    names = {"reviewer": [f"rev{i:02d}" for i in range(14)], "leader": [f"lead{i}" for i in range(4)], "auditor": ["aud0", "aud1"]}
    log(f"store {schema}: reused")
    return {"ids": leads["lead_id"].to_list(), "pids": leads["entity_id"].to_list(), "names": names}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, pg: str, schema: str):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "fundwatch", "serve", "--store", pg, "--schema", schema, "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/login", timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the server did not start: " + (self.proc.stderr.read().decode() if self.proc.poll() is not None else "timeout"))

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the server and its worker processes (load-independent)."""
        import psutil

        root = psutil.Process(self.proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class User:
    def __init__(self, base: str, name: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        html = self.opener.open(base + "/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode({"name": name, "password": PASSWORD, "csrf_token": token}).encode()
        page = self.opener.open(base + "/login", data=data, timeout=30)
        assert "/queue" in page.geturl(), f"{name} could not sign in"

    def get(self, path: str) -> tuple[float, str]:
        t = time.perf_counter()
        with self.opener.open(self.base + path, timeout=60) as r:
            body = r.read().decode()
            assert r.status == 200
        return time.perf_counter() - t, body


def queue_paths(data: dict, rng: random.Random) -> tuple[str, str]:
    """(page type, path) of one queue request."""
    choice = rng.random()
    if choice < 0.25:
        kind = "queue_search"
        which = rng.choice(("pid", "pid_prefix", "name", "record"))
        i = rng.randrange(len(data["ids"]))
        q = {"pid": data["pids"][i], "pid_prefix": data["pids"][i][:10], "name": SURNAMES[i % len(SURNAMES)] + "某",
             "record": f"D{int(data['ids'][i][3:], 16):07d}1"}[which]
        return kind, "/queue?" + urllib.parse.urlencode({"q": q})
    args = {}
    for key, values in (("domain", ("subsidy", "medical")), ("severity", ("high", "medium", "low")),
                        ("status", ("new", "assigned", "confirmed")), ("rule", RULES[:4]), ("place", ("110101", "110115"))):
        if rng.random() < 0.3:
            args[key] = rng.choice(values)
    if rng.random() < 0.2:
        args["new"] = "1"
    args["sort"] = rng.choice(("rank", "rank", "amount", "score", "updated"))
    args["page"] = rng.choice((1, 1, 1, 2, 3, 10, 50))
    return "queue", "/queue?" + urllib.parse.urlencode(args)


def browse(base: str, name: str, data: dict, rounds: int, think_ms: float, seed: int, out: dict, errors: list) -> None:
    rng = random.Random(seed)
    try:
        u = User(base, name)
        for _ in range(rounds):
            kind, path = queue_paths(data, rng)
            sec, body = u.get(path)
            out.setdefault(kind, []).append(sec)
            time.sleep(rng.uniform(0, 2 * think_ms) / 1000)
            shown = re.findall(r'href="/leads/(FW-[0-9a-f]{16})', body)
            lead = rng.choice(shown) if shown else None
            if lead is None or name.startswith("rev"):
                lead = None if name.startswith("rev") and not shown else lead  # reviewers open what they may see
            if lead:
                sec, _ = u.get(f"/leads/{lead}")
                out.setdefault("lead", []).append(sec)
            time.sleep(rng.uniform(0, 2 * think_ms) / 1000)
    except Exception as e:  # reported after the run
        errors.append(f"{name}: {type(e).__name__}: {e}")


def measure(base: str, data: dict, users: int, rounds: int, think_ms: float) -> dict:
    names = (data["names"]["reviewer"] + data["names"]["leader"] + data["names"]["auditor"])[:users]
    per_user = [dict() for _ in names]
    errors: list[str] = []
    threads = [threading.Thread(target=browse, args=(base, n, data, rounds, think_ms, i, per_user[i], errors)) for i, n in enumerate(names)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    merged: dict[str, list[float]] = {}
    for d in per_user:
        for k, v in d.items():
            merged.setdefault(k, []).extend(v)
    static = User(base, names[0])
    merged["static"] = [static.get("/static/app.css")[0] for _ in range(50)]
    return {"wall_seconds": round(wall, 1), "errors": errors, "pages": {k: stats(v) for k, v in merged.items()}}


def stats(v: list[float]) -> dict:
    v = sorted(v)
    q = statistics.quantiles(v, n=100, method="inclusive") if len(v) > 1 else [v[0]] * 99
    return {"n": len(v), "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1), "max_ms": round(v[-1] * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--baseline-leads", type=int, default=1_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=25, help="queue + lead page pairs per user (bounded load)")
    ap.add_argument("--think-ms", type=float, default=500.0, help="mean think time between a user's requests")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--keep", action="store_true",
                    help="keep the stores (schemas fw_bench_<N>) and reuse them next time instead of building them again")
    args = ap.parse_args(argv)
    import sqlalchemy as sa

    log = print
    results = {"machine": machine_info(), "args": vars(args), "stores": {}}
    schemas = []
    try:
        for label, n in (("baseline", args.baseline_leads), ("big", args.leads)):
            schema = f"fw_bench_{n}" if args.keep else f"fw_bench_{uuid.uuid4().hex[:10]}"
            if not args.keep:
                schemas.append(schema)
            data = reuse_store(args.pg, schema, n, log) if args.keep else None
            data = data or build_store(args.pg, schema, n, log)
            server = Server(args.pg, schema)
            try:
                cpu0 = server.cpu_seconds()
                m = measure(server.base, data, args.users, args.rounds, args.think_ms)
                n_requests = sum(p["n"] for p in m["pages"].values()) + args.users * 2  # + sign-ins
                m["server_cpu_ms_per_request"] = round(1000 * (server.cpu_seconds() - cpu0) / n_requests, 1)
                m["requests_per_second"] = round(n_requests / m["wall_seconds"], 1)
            finally:
                server.stop()
            m["leads"] = n
            results["stores"][label] = m
            log(f"{label} ({n:,} leads): {m['wall_seconds']} s, {m['requests_per_second']} requests/s, "
                f"server CPU {m['server_cpu_ms_per_request']} ms per request, errors: {len(m['errors'])}")
            for e in m["errors"][:5]:
                log("  " + e)
    finally:
        eng = sa.create_engine(args.pg)
        with eng.begin() as c:
            for s in schemas:
                c.execute(sa.schema.DropSchema(s, cascade=True, if_exists=True))
        eng.dispose()
    rows = []
    big, base = results["stores"]["big"]["pages"], results["stores"]["baseline"]["pages"]
    for kind in ("queue", "queue_search", "lead", "static"):
        if kind in big and kind in base:
            rows.append({"page": kind, "n": big[kind]["n"], f"p50 ms ({args.leads:,})": big[kind]["p50_ms"],
                         f"p95 ms ({args.leads:,})": big[kind]["p95_ms"], "max ms": big[kind]["max_ms"],
                         f"p95 ms ({args.baseline_leads:,})": base[kind]["p95_ms"],
                         "p95 ratio": round(big[kind]["p95_ms"] / max(base[kind]["p95_ms"], 0.1), 2),
                         "p95 / static p95": round(big[kind]["p95_ms"] / max(big["static"]["p95_ms"], 0.1), 1)})
    print(table(rows))
    print(f"load average during the run: {results['machine'].get('load_average')} (2 cores; other work on the machine inflates latency)")
    path = write_json(RESULTS / "workspace.json", results)
    print(f"results: {path}")
    bad = [k for k in ("queue", "queue_search", "lead") if k in big and big[k]["p95_ms"] > 300]
    errors = results["stores"]["big"]["errors"] + results["stores"]["baseline"]["errors"]
    if bad or errors:
        print(f"target missed (p95 > 300 ms): {bad}; errors: {len(errors)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
