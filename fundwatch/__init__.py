"""fundwatch: ranked leads on public money — one-card subsidies and medical-insurance claims.

Core package: the data contract, settings, loading and quarantine, identity numbers,
the synthetic city, leads, the lead store and the command line. It never imports Prefect;
orchestration lives in ``flows``.
"""

__version__ = "0.1.0"
