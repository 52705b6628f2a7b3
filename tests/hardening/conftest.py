"""Fixtures of the hardening suite: one tiny valid city written once per session and a
helper running the command line in this process (``cli_helpers.run_cli``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

PERSONS = 700
SEED = 11
#: every n-th claim is kept: a small medical part that still spans every month
CLAIM_EVERY = 8


@dataclass
class BaseCity:
    input: Path
    datasets: dict[str, pl.DataFrame]

    def person_ids(self) -> set[str]:
        d = self.datasets
        ids = set(d["persons"]["person_id"].to_list())
        ids |= set(d["disbursements"]["person_id"].to_list()) | set(d["disbursements"]["account_holder_id"].to_list())
        ids |= set(d["claims"]["person_id"].to_list())
        return {i for i in ids if i}

    def names(self) -> set[str]:
        d = self.datasets
        return {n for n in set(d["persons"]["name"].to_list()) | set(d["disbursements"]["name"].to_list()) if n and len(n) >= 2}

    def account_nos(self) -> set[str]:
        return {a for a in self.datasets["disbursements"]["account_no"].to_list() if a}


def _tiny_city() -> dict[str, pl.DataFrame]:
    from fundwatch.synth import generate_city

    d = dict(generate_city(PERSONS, SEED).datasets)
    claims = d["claims"].gather_every(CLAIM_EVERY)
    d["claims"] = claims
    d["claim_items"] = d["claim_items"].join(claims.select("claim_id"), on="claim_id", how="semi")
    return d


@pytest.fixture(scope="session")
def base_city(tmp_path_factory) -> BaseCity:
    """A tiny valid city (one Parquet file per dataset), written once per session."""
    out = tmp_path_factory.mktemp("hardening-city")
    inp = out / "input"
    inp.mkdir()
    d = _tiny_city()
    for name, frame in d.items():
        frame.write_parquet(inp / f"{name}.parquet")
    return BaseCity(inp, d)


@pytest.fixture(scope="session")
def no_docs_settings(tmp_path_factory) -> Path:
    """Settings that skip the Data Docs site (the corpus judges input handling, not docs)."""
    p = tmp_path_factory.mktemp("settings") / "no-docs.toml"
    p.write_text("[validation]\nbuild_docs = false\n", encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def cli():
    """Run ``fundwatch ARGS`` in this process: ``run(*args, env=None) -> CliResult``."""
    from cli_helpers import run_cli

    def run(*args, env: dict | None = None):
        return run_cli(*args, env=env)

    return run


@pytest.fixture(scope="session")
def default_run(cli, base_city, tmp_path_factory):
    """One default scan of the base city (shared by privacy, determinism and crash tests;
    those that write to a store copy it first)."""
    out = tmp_path_factory.mktemp("default-run")
    res = cli("scan", base_city.input, "--out", out)
    assert res.returncode == 0, res.stderr[-3000:]
    return out, res
