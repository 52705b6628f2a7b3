"""Settings section ``report``: the HTML report and the Excel workbook."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportSettings(BaseModel):
    """Settings for the reports. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    page_size: int = Field(
        50,
        ge=5,
        description="Leads per page in the HTML table. 50 fits a screen or two and keeps the "
        "DOM small so that 10,000 leads stay fast: only one page is ever rendered.",
    )
    page_sizes: tuple[int, ...] = Field(
        (25, 50, 100, 200),
        description="Choices offered in the report's page-size selector.",
    )
    evidence_per_lead_html: int = Field(
        50,
        ge=1,
        description="Evidence records embedded per lead in the HTML report. The workbook has all "
        "of them; capping keeps the single-file report small with 10,000 leads.",
    )
    peer_values_max: int = Field(
        200,
        ge=10,
        description="Peer values drawn per feature in the peer-comparison chart; larger peer "
        "groups are thinned to evenly spaced quantiles (the shape of the distribution survives).",
    )
    chart_top_n: int = Field(
        12,
        ge=3,
        description="Bars in the overview charts by rule and by region; the rest are grouped as 'other'.",
    )
    validation_rows_html: int = Field(
        500,
        ge=10,
        description="Expectations listed in the report's validation section (failures first); "
        "the Data Docs and the workbook have them all.",
    )
    timezone: str = Field(
        "Asia/Shanghai",
        description="Time zone of the times a reader sees (generated at, run start): China Standard "
        "Time, not the server's UTC. An IANA name.",
    )
    wan_from_cny: float = Field(
        10_000.0,
        ge=0,
        description="Amounts from this many yuan up are shown in 万元 (ten thousands) in the Chinese "
        "report and charts, as Chinese finance reports do; smaller ones in 元.",
    )
    excel_money_format: str = Field(
        "#,##0.00", description="Excel number format of CNY amounts (two decimals, thousands separator)."
    )
    excel_score_format: str = Field("0.000", description="Excel number format of scores in [0, 1].")
    excel_max_col_width: int = Field(
        60, ge=10, description="Upper bound on a column's width (characters), so long explanations wrap a screen, not a mile."
    )
    excel_max_rows: int = Field(
        1_048_000,
        description="Rows written per sheet at most: Excel's limit is 1,048,576; a note says when rows were left out.",
    )
