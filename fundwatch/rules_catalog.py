"""What each rule and model code means, in Chinese and English.

Data only: the leads builder uses ``family`` to merge findings about one entity and one
problem into one lead and ``weight`` as the rule's severity in the score; reports show the
titles and meanings. Detectors emit these codes in ``rule_code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RuleInfo:
    code: str
    domain: Literal["subsidy", "medical"]
    kind: Literal["rule", "model"]
    family: str  # findings of one family about one entity become one lead
    weight: float  # rule severity, 0..1, used by the score (see fundwatch.scoring)
    title_zh: str
    title_en: str
    meaning_zh: str
    meaning_en: str
    #: ``(parent code, details key)``: a finding of this code whose parent entity (named in
    #: ``details[key]``) is itself flagged by the parent code joins the parent's lead: the
    #: doctors of an inflated clinic are evidence of the clinic's problem, not leads of their own.
    folds_into: tuple[str, str] | None = None


def _r(*args) -> RuleInfo:
    return RuleInfo(*args)


RULES: dict[str, RuleInfo] = {
    r.code: r
    for r in [
        # --- subsidy ------------------------------------------------------------------
        _r("DECEASED_PAYEE", "subsidy", "rule", "deceased", 1.0,
           "死亡人员仍领取补贴", "Payments to a deceased person",
           "所属期晚于死亡月份的发放(任一死亡数据来源)", "Payments for periods starting after the month of death (any death source)"),
        _r("DUPLICATE_PAYMENT", "subsidy", "rule", "duplicate", 0.9,
           "同一补贴重复发放", "Same subsidy paid twice",
           "同一人、同一补贴项目、同一所属期发放多次", "Same person, subsidy type and period paid more than once"),
        _r("OVER_STANDARD", "subsidy", "rule", "over_standard", 0.7,
           "超标准发放", "Paid above the standard",
           "发放金额高于适用标准×计发数量", "Amount above the applicable standard × quantity"),
        _r("INELIGIBLE_AGE", "subsidy", "rule", "eligibility", 0.7,
           "年龄不符合享受条件", "Age outside the eligibility limits",
           "所属期首日年龄超出补贴标准的年龄范围", "Age on the first day of the period outside the standard's limits"),
        _r("OFFICIAL_RECIPIENT", "subsidy", "rule", "eligibility", 0.9,
           "财政供养人员违规领取", "Official receiving an excluded subsidy",
           "任职期间的财政供养人员或村干部领取排除其享受的补贴", "An official serving during the period receives a subsidy that excludes officials"),
        _r("ASSET_OWNER_RECIPIENT", "subsidy", "rule", "eligibility", 0.8,
           "有车辆或工商登记人员违规领取", "Vehicle or business owner receiving an excluded subsidy",
           "所属期前已登记车辆或工商的人员领取排除其享受的补贴", "A vehicle/business owner registered before the period receives a subsidy that excludes them"),
        _r("GHOST_BENEFICIARY", "subsidy", "rule", "ghost", 0.9,
           "虚假受益人", "Ghost beneficiary",
           "受益人不在人员库中或身份证号不符合国家标准", "Beneficiary not in the person register, or an invalid identity number"),
        _r("AREA_INFLATION", "subsidy", "rule", "farmland", 0.8,
           "虚报耕地面积", "Farmland area inflated",
           "耕地地力补贴计发面积超过确权面积", "Farmland subsidy quantity above the household's contracted area"),
        _r("DELAYED_PAYMENT", "subsidy", "rule", "delay", 0.5,
           "补贴滞留截留", "Payment held back",
           "发放日期晚于所属期开始90天以上", "Paid more than 90 days after the period began"),
        _r("CADRE_HELD_CARDS", "subsidy", "rule", "held_cards", 1.0,
           "干部代持群众补贴卡", "Cadre holding villagers' cards",
           "村干部或公职人员是非本户受益人的账户持有人", "A cadre or official holds the account of beneficiaries outside their household"),
        _r("SHARED_ACCOUNT", "subsidy", "rule", "held_cards", 0.8,
           "多人共用一个账户", "One account for several households",
           "同一账户为多个不同户的人员领取补贴", "One account receives for several people of different households"),
        _r("VILLAGE_OUTLIER", "subsidy", "model", "village_outlier", 0.6,
           "村(社区)发放异常", "Village out of line with its peers",
           "与同县、同补贴结构的村相比,受益人比例、人均金额等明显偏高", "Recipients per resident, money per resident etc. far above comparable villages"),
        _r("OPERATOR_OUTLIER", "subsidy", "model", "operator_outlier", 0.6,
           "经办人发放异常", "Operator out of line with peers",
           "与同县经办人相比,新增受益人、代领比例等明显偏高", "Enrolments, payments into others' accounts etc. far above comparable operators"),
        # --- medical ------------------------------------------------------------------
        _r("CLAIM_AFTER_DEATH", "medical", "rule", "deceased", 1.0,
           "死亡后仍发生医保结算", "Claims after death",
           "就诊日期晚于死亡日期", "Visit date after the person's death"),
        _r("GENDER_LIMIT", "medical", "rule", "catalog_limits", 0.8,
           "限性别项目违规", "Gender-restricted item billed to the wrong sex",
           "限定性别的项目用于另一性别的参保人", "An item limited to one sex billed to a person of the other"),
        _r("AGE_LIMIT", "medical", "rule", "catalog_limits", 0.7,
           "限年龄项目违规", "Age-restricted item outside its limits",
           "服务日年龄超出目录限定年龄", "Item billed outside the catalogue's age limits"),
        _r("EXCESS_QUANTITY", "medical", "rule", "over_billing", 0.6,
           "超量开药/超量收费", "Quantity above the daily limit",
           "同一结算单同一服务日数量超过每日限量", "Quantity per claim and service date above max_qty_per_day"),
        _r("OVER_PRICE", "medical", "rule", "over_billing", 0.6,
           "超限价收费", "Price above the cap",
           "单价高于目录最高限价", "Unit price above the catalogue's price cap"),
        _r("DUPLICATE_BILLING", "medical", "rule", "over_billing", 0.7,
           "重复收费", "Item billed twice",
           "同一结算单同一服务日重复出现同一项目", "The same item on repeated lines of one claim and service date"),
        _r("OVERLAPPING_STAYS", "medical", "rule", "inpatient_abuse", 0.9,
           "同时在两家医院住院", "In hospital at two places at once",
           "同一人在两家机构的住院时间重叠", "One person in-patient at two institutions on the same days"),
        _r("SPLIT_ADMISSION", "medical", "rule", "inpatient_abuse", 0.7,
           "分解住院", "Split admissions",
           "15天内以相同诊断在同一医院反复再入院", "Repeated readmission to the same hospital within 15 days with the same diagnosis"),
        _r("PHANTOM_INPATIENT", "medical", "rule", "inpatient_abuse", 0.8,
           "挂床住院", "Phantom in-patient stay",
           "住院一周以上但几乎只收床位和护理费", "A stay of a week or more billed almost only for bed and nursing"),
        _r("FREQUENT_VISITS", "medical", "rule", "frequent_visits", 0.6,
           "频繁就诊购药", "Implausibly frequent visits",
           "门诊或药店就诊频次远超合理需要", "Outpatient or pharmacy visits far beyond any plausible need"),
        _r("INSTITUTION_OUTLIER", "medical", "model", "institution_outlier", 0.6,
           "医药机构费用异常", "Institution out of line with its peers",
           "与同类别同等级机构相比,次均费用、药占比等明显偏高", "Cost per visit, drug share etc. far above institutions of the same kind and level"),
        _r("DOCTOR_OUTLIER", "medical", "model", "doctor_outlier", 0.6,
           "医师诊疗异常", "Doctor out of line with peers",
           "与同机构医师相比,次均药费、日接诊量等明显偏高", "Drug cost per visit, patients per day etc. far above colleagues",
           ("INSTITUTION_OUTLIER", "institution_id")),
        _r("COLLUSIVE_GROUP", "medical", "model", "collusion", 0.8,
           "团伙结伴就诊购药", "Group visiting together",
           "非同户人员反复在同一机构同一天就诊", "People of different households repeatedly visiting the same place on the same days"),
    ]
}


def rule_title(code: str, lang: str = "zh") -> str:
    info = RULES.get(code)
    if info is None:
        return code
    return info.title_zh if lang == "zh" else info.title_en
