"""The ``regions`` dataset (行政区划, contract v2) of the synthetic city.

Every code the city uses gets a name: the prefecture (``<prefecture_code>00``), its counties
(6 digits, the names institutions already carry: 自流井区, 荣县 …), their townships (9 digits:
the county seat's first township is a 街道, the others 镇 or 乡) and villages (12 digits: 村, or
社区 in a 街道). Township and village names are two characters drawn from common place-name
stems (石坝, 仲权 …), unique within their parent, deterministic per seed. 12-digit codes padded
with zeros (a township's ``510302100000`` on an institution, a county's ``510302000000`` on a
civil servant) are named through their non-zero prefix, as the contract says, so they need no
row of their own.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from fundwatch.synth.config import SynthConfig
from fundwatch.synth.population import Population, rng_v2

#: Real prefecture names for the prefecture codes the synthetic city is usually built with.
PREFECTURE_NAMES = {"5103": "自贡市", "5113": "南充市", "5110": "内江市"}
STEM_FIRST = list("仲双石新永长龙凤金高安和平太兴福白青黄东西南北桥河岩梅花桂柏松竹马观回古宝复五三大小茶杨柳李")
STEM_SECOND = list("滩坝桥岩山河溪湾沟井坪田林塘寺口场冲垭堰湖峰岭阳兴安平丰泉铺店园权水家坡")
N_STEMS = len(STEM_FIRST) * len(STEM_SECOND)
#: share of non-seat townships that are 乡 (the rest are 镇); of villages in a 镇 that are 社区
XIANG_SHARE = 0.3
TOWN_COMMUNITY_SHARE = 0.1
SCHEMA = {"region_code": pl.String, "name": pl.String, "parent_code": pl.String}


def _stems(rng: np.random.Generator, k: int) -> list[str]:
    """``k`` distinct two-character stems (k ≤ N_STEMS)."""
    picks = rng.choice(N_STEMS, size=min(k, N_STEMS), replace=False)
    out = [STEM_FIRST[i // len(STEM_SECOND)] + STEM_SECOND[i % len(STEM_SECOND)] for i in picks]
    # beyond N_STEMS (never at county scale) a number keeps names unique
    return out + [f"{out[i % len(out)]}{i // len(out) + 1}" for i in range(len(out), k)]


def build_regions_dataset(pop: Population, seed: int, cfg: SynthConfig) -> pl.DataFrame:
    """The ``regions`` rows (region_code, name, parent_code), sorted by code.

    Loops run over counties and townships only (hundreds at the L tier); villages of a township
    are named in one draw.
    """
    rng = rng_v2(seed, "regions")
    prefecture = f"{cfg.prefecture_code}00"
    rows: list[tuple[str, str, str | None]] = [
        (prefecture, PREFECTURE_NAMES.get(cfg.prefecture_code, _stems(rng, 1)[0] + "市"), None)
    ]
    towns = pop.townships
    villages = pop.villages
    for county, code, cname in pop.counties.select("county", "county_code", "name").iter_rows():
        ccode = str(code)
        rows.append((ccode, cname, prefecture))
        ts = towns.filter(pl.col("county") == county).sort("township")
        t_names = _stems(rng, ts.height)
        for j, (township, tcode12) in enumerate(ts.select("township", "region_code").iter_rows()):
            tcode = tcode12[:9]
            street = j == 0  # the county seat
            kind = "街道" if street else ("乡" if rng.random() < XIANG_SHARE else "镇")
            rows.append((tcode, t_names[j] + kind, ccode))
            vcodes = villages.filter(pl.col("township") == township).sort("region_code")["region_code"].to_list()
            v_names = _stems(rng, len(vcodes))
            community = np.full(len(vcodes), street) | (rng.random(len(vcodes)) < TOWN_COMMUNITY_SHARE)
            rows += [
                (v, n + ("社区" if c else "村"), tcode) for v, n, c in zip(vcodes, v_names, community)
            ]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row").sort("region_code")
