"""The data contract, as data.

Every input dataset fundwatch reads, with its canonical English column names, the
Chinese headers real exports use, the value kind of each column (which decides how
it is normalised on load), which columns must be present and non-empty, and the
primary key. The findings every detector returns and the leads output columns are declared
here too.

This module is the single place the contract lives in code: loaders, validation
suites, the synthetic city and the reports all read it. It imports nothing but
polars, so analysts can use it without Prefect or Great Expectations.

Value kinds
-----------
``str``      free text, trimmed.
``person``   18-character resident identity number (GB 11643), trimmed, ``x`` -> ``X``.
``region``   12-digit statistical area code (``region_prefix`` in standards is 6 digits or ``*``).
``date``     ``pl.Date``; accepts ``2025-03-07``, ``20250307``, ``2025/3/7``, ``2025年3月7日``, Excel dates.
``period``   ``str`` ``YYYY-MM``; accepts ``202503``, ``2025/03``, ``2025年3月``.
``money``    ``pl.Float64`` CNY; accepts ``1,234.50``, ``¥1234.5``, ``1234.50元``.
``gender``   ``M``/``F``; accepts ``男``/``女``, ``1``/``2``.
``bool``     ``pl.Boolean``; accepts ``1``/``0``, ``是``/``否``, ``Y``/``N``.
``enum``     the code; accepts the Chinese label given beside it.
``int``      ``pl.Int64``.
``float``    ``pl.Float64``.
``codes``    ``str``: a ``;``-joined list of ICD-10 codes or prefixes (``E11;E13``); full-width
             ``；``, commas, ``、`` and white space become ``;``, letters are upper-cased (v2).

Contract versions
-----------------
Version 2 (2026-11-30) adds optional columns to existing datasets (``Column.since == 2``,
listed by :data:`V2_COLUMNS`) and three new datasets (``Dataset.since == 2``:
:data:`V2_DATASETS`). All of them are optional: an input without them loads as before. A v2
column absent from every file of its dataset is **absent from the loaded frame** (not a column
of nulls), so that a detector can tell "not provided" from "provided but empty"; the loader
records which ones in ``LoadResult.absent_columns``. ``Dataset.schema`` is the full (v2)
schema; ``Dataset.base_schema`` the version-1 one, which is what an input without any v2
column loads as.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

ValueKind = Literal[
    "str", "person", "region", "date", "period", "money", "gender", "bool", "enum", "int", "float", "codes"
]

#: The contract version this code implements.
CONTRACT_VERSION = 2

#: polars dtype of each value kind after normalisation.
KIND_DTYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "person": pl.String(),
    "region": pl.String(),
    "date": pl.Date(),
    "period": pl.String(),
    "money": pl.Float64(),
    "gender": pl.String(),
    "bool": pl.Boolean(),
    "enum": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "codes": pl.String(),
}


@dataclass(frozen=True)
class Column:
    """One contract column.

    Parameters
    ----------
    name : canonical English name.
    zh : the Chinese header used by real exports.
    kind : value kind (see module docstring); decides normalisation.
    required : the column must be present in every file of the dataset.
    nullable : an empty value is allowed (``required`` columns may still be nullable,
        e.g. ``end_date``: present, but empty means "still serving").
    enum : for ``kind="enum"``: code -> Chinese label.
    default : value used when the cell is empty (e.g. ``quantity`` defaults to 1).
    since : contract version that added the column (2 = a **v2** column of a version-1
        dataset: optional, and absent from the loaded frame when no file has it).
    """

    name: str
    zh: str
    kind: ValueKind
    required: bool = True
    nullable: bool = False
    enum: dict[str, str] = field(default_factory=dict)
    default: object | None = None
    since: int = 1

    @property
    def dtype(self) -> pl.DataType:
        return KIND_DTYPES[self.kind]

    @property
    def is_v2(self) -> bool:
        """A column added by version 2 to a dataset that existed before."""
        return self.since >= 2


@dataclass(frozen=True)
class Dataset:
    """One contract dataset (a file ``<name>.<ext>`` or a folder ``<name>/``).

    ``since`` is the contract version that added the dataset (2 for ``regions``,
    ``item_prices``, ``allocations``).
    """

    name: str
    zh: str
    role: Literal["reference", "event"]
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    since: int = 1

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def schema(self) -> pl.Schema:
        """Typed polars schema of the dataset after loading, every v2 column present."""
        return pl.Schema({c.name: c.dtype for c in self.columns})

    @property
    def v2_columns(self) -> tuple[str, ...]:
        """The optional columns version 2 added to this dataset (may be absent after loading)."""
        return tuple(c.name for c in self.columns if c.is_v2)

    @property
    def base_schema(self) -> pl.Schema:
        """The schema without the v2 columns: what an input without any of them loads as."""
        return self.schema_without(self.v2_columns)

    def schema_without(self, absent: tuple[str, ...] | list[str]) -> pl.Schema:
        """The schema of a loaded frame whose v2 columns ``absent`` were not provided."""
        return pl.Schema({c.name: c.dtype for c in self.columns if c.name not in absent})

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def header_aliases(self) -> dict[str, str]:
        """Every accepted header (English or Chinese) -> canonical name."""
        aliases: dict[str, str] = {}
        for c in self.columns:
            aliases[c.name] = c.name
            aliases[c.zh] = c.name
        return aliases


C = Column


def V2(name: str, zh: str, kind: ValueKind, **kw) -> Column:
    """A **v2** column of a version-1 dataset: optional, may be empty, absent if no file has it."""
    return Column(name, zh, kind, required=False, nullable=True, since=2, **kw)


ROLE = {"civil_servant": "公务员", "public_institution": "事业单位", "village_cadre": "村(社区)干部"}
ASSET_TYPE = {"vehicle": "车辆", "business": "工商登记", "property": "房产"}
UNIT = {"person_month": "人月", "person_year": "人年", "mu_year": "亩年"}
INSTITUTION_KIND = {"hospital": "医院", "clinic": "诊所/卫生院", "pharmacy": "药店"}
CATEGORY = {
    "drug": "药品",
    "exam": "检查",
    "treatment": "治疗",
    "material": "材料",
    "bed": "床位",
    "service": "诊查/护理",
}
VISIT_TYPE = {"outpatient": "门诊", "inpatient": "住院", "pharmacy": "药店购药"}

# -- v2 enumerations (codes and labels exactly as the contract gives them) --------------------
RELATION = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "grandchild": "孙子女", "other": "其他"}
ASSET_SUBTYPE = {
    "car": "小型汽车",
    "truck": "货车",
    "farm_vehicle": "农用车",
    "motorcycle": "摩托车",
    "disability_vehicle": "残疾人代步车",
    "sole_trader": "个体工商户",
    "company": "企业",
    "residential": "住宅",
    "commercial": "商业用房",
}
#: which subtypes belong to which asset type (the contract's table)
ASSET_SUBTYPES_BY_TYPE = {
    "vehicle": ("car", "truck", "farm_vehicle", "motorcycle", "disability_vehicle"),
    "business": ("sole_trader", "company"),
    "property": ("residential", "commercial"),
}
OWNERSHIP = {"public": "公立", "private": "民营"}
VISIT_TYPE_LIMIT = {"inpatient": "限住院", "outpatient": "限门诊"}
PAYMENT_TYPE = {"regular": "正常发放", "back_pay": "补发", "top_up": "补差", "returned": "退回"}

#: Extra Chinese labels seen in real exports for the same codes (accepted on input).
ENUM_SYNONYMS: dict[str, dict[str, str]] = {
    "kind": {"诊所": "clinic", "卫生院": "clinic"},
    "category": {"诊查": "service", "护理": "service"},
    "role": {"村干部": "village_cadre", "社区干部": "village_cadre"},
    "unit": {"元/人/月": "person_month", "元/人/年": "person_year", "元/亩/年": "mu_year"},
    "relation": {
        "妻": "spouse", "夫": "spouse", "妻子": "spouse", "丈夫": "spouse",
        "子": "child", "女": "child", "儿子": "child", "女儿": "child", "长子": "child", "长女": "child",
        "父亲": "parent", "母亲": "parent", "父": "parent", "母": "parent",
        "孙子": "grandchild", "孙女": "grandchild",
    },
    "subtype": {"小汽车": "car", "轿车": "car", "农用运输车": "farm_vehicle", "拖拉机": "farm_vehicle",
                "个体户": "sole_trader", "公司": "company", "商铺": "commercial"},
    "ownership": {"公办": "public", "民办": "private", "私立": "private"},
    "visit_type_limit": {"住院": "inpatient", "门诊": "outpatient"},
    "payment_type": {"正常": "regular", "追回": "returned"},
}

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "persons",
            "人员基础信息",
            "reference",
            (
                C("person_id", "身份证号", "person"),
                C("name", "姓名", "str"),
                C("gender", "性别", "gender"),
                C("birth_date", "出生日期", "date"),
                C("region_code", "行政区划代码", "region"),
                C("household_id", "户号", "str"),
                V2("relation", "与户主关系", "enum", enum=RELATION),
            ),
            primary_key=("person_id",),
        ),
        Dataset(
            "deaths",
            "死亡人员信息",
            "reference",
            (
                C("person_id", "身份证号", "person"),
                C("death_date", "死亡日期", "date"),
                C("source", "数据来源", "str"),
            ),
        ),
        Dataset(
            "officials",
            "财政供养人员及村(社区)干部",
            "reference",
            (
                C("person_id", "身份证号", "person"),
                C("role", "身份类别", "enum", enum=ROLE),
                C("organization", "工作单位", "str", nullable=True),
                C("region_code", "行政区划代码", "region"),
                C("start_date", "任职开始", "date"),
                C("end_date", "任职结束", "date", nullable=True),
            ),
        ),
        Dataset(
            "assets",
            "车辆、工商、房产登记",
            "reference",
            (
                C("person_id", "身份证号", "person"),
                C("asset_type", "资产类别", "enum", enum=ASSET_TYPE),
                C("registered_date", "登记日期", "date"),
                C("value", "价值", "money", nullable=True),
                V2("subtype", "资产子类", "enum", enum=ASSET_SUBTYPE),
                V2("deregistered_date", "注销日期", "date"),
            ),
        ),
        Dataset(
            "subsidy_standards",
            "补贴标准",
            "reference",
            (
                C("subsidy_type", "补贴项目代码", "str"),
                C("subsidy_name", "补贴项目名称", "str"),
                C("region_prefix", "适用区划", "str"),
                C("valid_from", "起始期", "period"),
                C("valid_to", "截止期", "period", nullable=True),
                C("unit", "计发单位", "enum", enum=UNIT),
                C("amount", "标准金额", "money"),
                C("min_age", "最低年龄", "int", nullable=True),
                C("max_age", "最高年龄", "int", nullable=True),
                C("excludes_officials", "排除财政供养人员", "bool"),
                C("excludes_asset_owners", "排除车辆工商登记人员", "bool"),
                V2("means_test", "按户核定", "bool"),
                V2("exclusive_group", "互斥组", "str"),
                V2("pay_within_days", "发放时限(天)", "int"),
            ),
            primary_key=("subsidy_type", "region_prefix", "valid_from"),
        ),
        Dataset(
            "land",
            "承包地确权面积",
            "reference",
            (
                C("household_id", "户号", "str"),
                C("person_id", "身份证号", "person"),
                C("contracted_area_mu", "确权面积(亩)", "float"),
            ),
            primary_key=("household_id",),
        ),
        Dataset(
            "institutions",
            "定点医药机构",
            "reference",
            (
                C("institution_id", "机构编码", "str"),
                C("name", "机构名称", "str"),
                C("kind", "机构类别", "enum", enum=INSTITUTION_KIND),
                C("level", "医院等级", "int"),
                C("region_code", "行政区划代码", "region"),
                C("beds", "床位数", "int"),
                V2("ownership", "所有制", "enum", enum=OWNERSHIP),
            ),
            primary_key=("institution_id",),
        ),
        Dataset(
            "item_catalog",
            "医保目录及限定",
            "reference",
            (
                C("item_code", "项目编码", "str"),
                C("item_name", "项目名称", "str"),
                C("category", "费用类别", "enum", enum=CATEGORY),
                C("gender_limit", "限定性别", "gender", nullable=True),
                C("min_age", "最低年龄", "int", nullable=True),
                C("max_age", "最高年龄", "int", nullable=True),
                C("max_qty_per_day", "每日限量", "float", nullable=True),
                C("price_cap", "最高限价", "money", nullable=True),
                V2("indication", "限定诊断", "codes"),
                V2("visit_type_limit", "限定就医方式", "enum", enum=VISIT_TYPE_LIMIT),
                V2("window_days", "限量周期(天)", "int"),
                V2("max_qty_per_window", "周期限量", "float"),
            ),
            primary_key=("item_code",),
        ),
        Dataset(
            "regions",
            "行政区划",
            "reference",
            (
                # 6, 9 or 12 digits (not the 12-digit ``region`` kind): checked by the suite
                C("region_code", "区划代码", "str"),
                C("name", "名称", "str"),
                C("parent_code", "上级区划代码", "str", nullable=True),
            ),
            primary_key=("region_code",),
            since=2,
        ),
        Dataset(
            "item_prices",
            "医疗服务价格",
            "reference",
            (
                C("item_code", "项目编码", "str"),
                C("level", "医院等级", "int"),
                C("valid_from", "起始日期", "date"),
                C("valid_to", "截止日期", "date", nullable=True),
                C("price_cap", "最高限价", "money"),
            ),
            primary_key=("item_code", "level", "valid_from"),
            since=2,
        ),
        Dataset(
            "disbursements",
            "一卡通发放明细",
            "event",
            (
                C("disbursement_id", "发放流水号", "str"),
                C("batch_id", "发放批次", "str"),
                C("subsidy_type", "补贴项目", "str"),
                C("person_id", "受益人身份证号", "person"),
                C("name", "受益人姓名", "str"),
                C("region_code", "行政区划代码", "region"),
                C("period", "所属期", "period"),
                C("pay_date", "发放日期", "date"),
                C("amount", "发放金额", "money"),
                C("quantity", "计发数量", "float", required=False, nullable=True, default=1.0),
                C("account_no", "账号", "str"),
                C("account_holder_id", "持卡人身份证号", "person"),
                C("operator_id", "经办人", "str"),
                # empty = regular (the contract), so an empty cell loads as "regular"
                V2("payment_type", "发放类型", "enum", enum=PAYMENT_TYPE, default="regular"),
                V2("proxy_id", "代领人身份证号", "person"),
            ),
            primary_key=("disbursement_id",),
        ),
        Dataset(
            "claims",
            "医保结算",
            "event",
            (
                C("claim_id", "结算单号", "str"),
                C("person_id", "参保人身份证号", "person"),
                C("institution_id", "机构编码", "str"),
                C("doctor_id", "医师编码", "str", nullable=True),
                C("visit_type", "就诊类别", "enum", enum=VISIT_TYPE),
                C("visit_date", "就诊日期", "date"),
                C("discharge_date", "出院日期", "date", nullable=True),
                C("settle_date", "结算日期", "date"),
                C("diagnosis_code", "诊断编码", "str", nullable=True),
                C("total_amount", "总费用", "money"),
                C("fund_amount", "统筹支付", "money"),
                C("self_amount", "个人支付", "money"),
                V2("admission_id", "住院登记号", "str"),
                V2("secondary_diagnoses", "其他诊断", "codes"),
                V2("department", "科室", "str"),
                V2("readmission_planned", "计划再入院", "bool"),
            ),
            primary_key=("claim_id",),
        ),
        Dataset(
            "claim_items",
            "费用明细",
            "event",
            (
                C("claim_id", "结算单号", "str"),
                C("line_no", "明细序号", "int"),
                C("item_code", "项目编码", "str"),
                C("item_name", "项目名称", "str"),
                C("category", "费用类别", "enum", enum=CATEGORY),
                C("quantity", "数量", "float"),
                C("unit_price", "单价", "money"),
                C("amount", "金额", "money"),
                C("service_date", "服务日期", "date"),
                V2("trace_code", "追溯码", "str"),
                V2("days_supply", "用药天数", "int"),
            ),
            primary_key=("claim_id", "line_no"),
        ),
        Dataset(
            "allocations",
            "资金拨付",
            "event",
            (
                C("batch_id", "发放批次", "str"),
                C("subsidy_type", "补贴项目", "str"),
                # the county (6 digits) or township (9): checked by the suite
                C("region_code", "行政区划代码", "str"),
                C("allocated_amount", "拨付金额", "money"),
                C("allocated_date", "拨付日期", "date"),
            ),
            since=2,
        ),
    ]
}

#: The datasets version 2 added (all optional).
V2_DATASETS: tuple[str, ...] = tuple(n for n, d in DATASETS.items() if d.since >= 2)
#: dataset -> the optional columns version 2 added to it.
V2_COLUMNS: dict[str, tuple[str, ...]] = {n: d.v2_columns for n, d in DATASETS.items() if d.v2_columns}

SUBSIDY_DATASETS = (
    "persons",
    "deaths",
    "officials",
    "assets",
    "subsidy_standards",
    "land",
    "disbursements",
    "allocations",
    "regions",
)
MEDICAL_DATASETS = (
    "persons", "deaths", "institutions", "item_catalog", "item_prices", "claims", "claim_items", "regions",
)

#: Where an invalid identity number quarantines the row; elsewhere it is kept (itself a lead).
PERSON_ID_STRICT_DATASETS = ("persons",)

#: Columns that hold personal data: masked in anything meant to be read.
PERSONAL_ID_COLUMNS = ("person_id", "account_holder_id", "proxy_id")
PERSONAL_NAME_COLUMNS = ("name",)  # in persons and disbursements (not institutions)

DOMAINS = ("subsidy", "medical")
#: ``batch`` (v2): an allocation batch in one region, entity_id ``batch_id@region_code``.
ENTITY_TYPES = ("person", "account", "operator", "village", "institution", "doctor", "group", "batch")
SEVERITIES = ("high", "medium", "low")

#: Output: leads, exactly as the contract's "Output: leads" section.
LEADS_SCHEMA = pl.Schema(
    {
        "lead_id": pl.String(),
        "rank": pl.Int64(),
        "score": pl.Float64(),
        "severity": pl.String(),
        "domain": pl.String(),
        "entity_type": pl.String(),
        "entity_id": pl.String(),
        "rule_codes": pl.List(pl.String()),
        "title": pl.String(),
        "amount_at_risk": pl.Float64(),  # money in doubt, each record counted once (v2 definition)
        "amount_involved": pl.Float64(),  # v2: money of all the evidence records (>= amount_at_risk)
        "period_start": pl.String(),
        "period_end": pl.String(),
        "region_code": pl.String(),
        "region_name": pl.String(),  # v2: from regions, empty where unknown
        "record_ids": pl.List(pl.String()),
        "explanation": pl.String(),
        "related_lead_ids": pl.List(pl.String()),  # v2: leads of the run sharing evidence records
        # money in doubt per listed record, parallel to record_ids; amount_at_risk minus their sum
        # is money of records a model did not list. Lets every total count a record once.
        "record_amounts": pl.List(pl.Float64()),
    }
)

#: One row per finding: what every detector returns (``fundwatch.detectors.base.Detector.detect``)
#: and what ``findings.parquet`` holds.
FINDINGS_SCHEMA = pl.Schema(
    {
        "rule_code": pl.String(),  # e.g. DECEASED_PAYEE, VILLAGE_OUTLIER
        "domain": pl.String(),  # subsidy | medical
        "entity_type": pl.String(),  # person | account | operator | village | institution | doctor | group
        "entity_id": pl.String(),
        "record_ids": pl.List(pl.String()),  # disbursement_id / claim_id values of the evidence
        "record_amounts": pl.List(pl.Float64()),  # money at risk per record, parallel to record_ids
        "amount_at_risk": pl.Float64(),  # >= sum(record_amounts): a model may list only part of its records
        "score": pl.Float64(),  # in [0, 1], higher = more anomalous
        "period_start": pl.String(),  # YYYY-MM
        "period_end": pl.String(),  # YYYY-MM
        "region_code": pl.String(),  # as precise as known (12 digits, or a prefix)
        "evidence_zh": pl.String(),  # the facts, for a supervisor, in Chinese
        "evidence_en": pl.String(),  # the same facts in English
        "details": pl.String(),  # JSON: structured facts, e.g. peer comparisons for charts
    }
)


def empty_findings() -> pl.DataFrame:
    """A findings frame with no rows."""
    return pl.DataFrame(schema=FINDINGS_SCHEMA)


def conform_findings(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Select, cast and order the findings columns; fill ``details`` with ``"{}"`` if absent.

    Columns not in :data:`FINDINGS_SCHEMA` are dropped. Rows are sorted by ``rule_code,
    entity_type, entity_id, period_start, record_ids`` so that findings are deterministic
    whatever order the input came in.
    """
    lf = frame.lazy()
    names = lf.collect_schema().names()
    exprs = []
    for col, dtype in FINDINGS_SCHEMA.items():
        if col in names:
            exprs.append(pl.col(col).cast(dtype))
        elif col == "details":
            exprs.append(pl.lit("{}", dtype=pl.String()).alias(col))
        elif col == "amount_at_risk" and "record_amounts" in names:
            exprs.append(pl.col("record_amounts").list.sum().cast(pl.Float64()).alias(col))
        else:
            raise ValueError(f"findings lack column {col!r}")
    return (
        lf.select(exprs)
        .sort(["rule_code", "entity_type", "entity_id", "period_start", "record_ids"])
        .collect()
    )


#: Quarantine output (quarantine.parquet): one row per rejected input row and reason.
QUARANTINE_SCHEMA = pl.Schema(
    {
        "dataset": pl.String(),
        "source_file": pl.String(),
        "row_number": pl.Int64(),  # the row's line in its file as an editor shows it (header = line 1)
        "column": pl.String(),
        "raw_value": pl.String(),
        "reason": pl.String(),
        "record_id": pl.String(),  # the row's key as written (claim_id, claim_id/line_no), when readable
    }
)
