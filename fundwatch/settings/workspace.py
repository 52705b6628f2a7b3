"""Settings of the supervisors' workspace (``fundwatch serve``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WorkspaceSettings(BaseModel):
    """Settings of the supervisors' workspace.

    Attributes
    ----------
    page_size : 50 leads a queue page by default; ``page_size_max`` (200) caps what a URL may ask.
    session_idle_minutes : 30. A session unused this long ends (the signed cookie carries its
        time; the server refuses older ones), so an unattended screen does not stay signed in.
    session_absolute_hours : 12. A session ends this long after sign-in whatever its use: one
        working day.
    lockout_failures : 5 wrong passwords for one user name (or from one address) within
        ``lockout_minutes`` (15) lock it for the rest of that window. Kept in the store, so a
        restart does not reset it.
    cookie_secure : False. Set True when the workspace is served over HTTPS (a reverse proxy):
        the session cookie is then never sent over plain HTTP.
    server_threads : 8 request threads in each server process.
    server_processes : 2 waitress processes sharing the listening socket (POSIX; one on
        Windows). Python runs one thread at a time per process, so a second process lets the
        workspace use a second core; each has its own database connections.
    evidence_rows : 200 evidence records shown on a lead page (the count of all is shown).
    related_leads : 20 related leads shown on a lead page.
    history_page : 200 rows a page of the audit history and access log.
    export_max_rows : 20,000 leads at most in one exported workbook (narrow the filters).
    count_cap : 1,000. The queue counts matching leads up to this many and then says "1,000+"
        (paging goes on): an exact count of 100,000 leads on every page view costs more than
        the page itself, and nobody pages through a thousand leads — they filter.
    cases_first_max : 5,000. A queue filtered on the cases (status, assignee, new) whose case
        condition matches at most this many leads is read from those cases first, then their
        leads: walking the whole run in rank order to find a rare status took 200 ms on
        100,000 leads, reading 5,000 cases and sorting their leads takes a few.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    page_size: int = Field(50, ge=1)
    page_size_max: int = Field(200, ge=1)
    session_idle_minutes: float = Field(30.0, gt=0)
    session_absolute_hours: float = Field(12.0, gt=0)
    lockout_failures: int = Field(5, ge=1)
    lockout_minutes: float = Field(15.0, gt=0)
    cookie_secure: bool = False
    server_threads: int = Field(8, ge=1)
    server_processes: int = Field(2, ge=1)
    evidence_rows: int = Field(200, ge=1)
    related_leads: int = Field(20, ge=0)
    history_page: int = Field(200, ge=1)
    export_max_rows: int = Field(20000, ge=1)
    count_cap: int = Field(1000, ge=1)
    cases_first_max: int = Field(5000, ge=0)
