"""What each check verifies, in Chinese, for auditors and supervisors.

The checks are declared once (``expectations/<dataset>.py``) with an English sentence; the
helpers of :mod:`expectations.spec` write the Chinese one from the same parameters, and the
hand-written checks (cross-dataset, identity-number agreement, load-time checks) find theirs
here by name. A check missing here falls back to its English text.
"""

from __future__ import annotations

from fundwatch.contract import DATASETS

#: column -> its Chinese header (the first dataset that has the column names it).
COLUMN_ZH: dict[str, str] = {}
for _ds in DATASETS.values():
    for _c in _ds.columns:
        COLUMN_ZH.setdefault(_c.name, _c.zh)

KIND_ZH = {
    "date": "日期", "period": "期间(年月)", "money": "金额", "int": "整数", "float": "数值",
    "bool": "是/否值", "gender": "性别代码", "enum": "代码", "region": "区划代码", "person": "身份证号",
    "str": "文本",
}
KIND_EN = {
    "date": "a date", "period": "a period (year-month)", "money": "an amount", "int": "a whole number",
    "float": "a number", "bool": "a yes/no value", "gender": "a gender code", "enum": "a listed code",
    "region": "a region code", "person": "an identity number", "str": "text",
}

#: Hand-written checks, by name.
CHECK_ZH: dict[str, str] = {
    "gender_agrees_with_person_id": "性别与身份证号第17位一致(奇数为男、偶数为女)",
    "birth_date_agrees_with_person_id": "出生日期与身份证号第7-14位一致",
    "claim_exists": "明细所属的结算单存在(已接收的结算单)",
    "institution_exists": "定点医药机构编码在机构信息中存在",
    "patient_in_persons": "参保人身份证号在人员基础信息中存在",
    "total_amount_eq_sum_of_items": "结算总金额等于各费用明细金额之和(允差内)",
    "subsidy_type_in_standards": "补贴项目为补贴标准中的代码或名称",
    "beneficiary_in_persons": "受益人身份证号在人员基础信息中存在",
    "item_in_catalog": "项目编码在医保目录中存在",
    "rows_well_formed": "每行字段数与表头一致,且不是空行",
    # contract v2
    "subtype_fits_asset_type": "资产小类属于该资产类别(车辆:小汽车、货车……;工商:个体户、公司;房产:住宅、商业)",
    "region_prefix_format": "适用区划为6位县级代码或 *",
    "indication_icd10_prefixes": "适应症为以分号分隔的 ICD-10 编码前缀(如 E11;E13)",
    "window_days_with_max_qty_per_window": "限定天数与该期间最大数量须同时填写或同时为空",
    "secondary_diagnoses_icd10_codes": "其他诊断为以分号分隔的 ICD-10 编码(如 I10;E11.9)",
    "admission_id_one_inpatient_stay": "同一住院号的结算单属于同一人、同一机构,且均为住院",
    "trace_code_quantity_le_1": "有追溯码的明细每行至多售出一个包装(数量 ≤ 1)",
    "region_code_6_9_12_digits": "区划代码为6、9或12位",
    "parent_code_in_regions": "上级区划代码(如有)在区划表中存在",
    "validity_does_not_overlap": "同一项目同一级别的价格有效期互不重叠",
    "region_code_6_or_9_digits": "区划代码为县级(6位)或乡镇级(9位)代码",
}


def col_zh(col: str) -> str:
    return COLUMN_ZH.get(col, col)
