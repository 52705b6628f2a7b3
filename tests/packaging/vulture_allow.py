"""Names vulture reports as unused that something outside our code reads (never imported).

Each line names the reader. Read by ``vulture`` (``[tool.vulture]`` in pyproject.toml) as a
list of uses; tests/packaging/test_lint.py runs it.
"""

_ = object()  # vulture only parses this file; the attribute accesses below are never run

# pydantic serialises every field of the run record into run.json (readers: auditors, the store)
_.quarantined_on_load
_.quarantined_by_validation
_.load_seconds
_.validation_rows_per_second
_.failed_expectations
_.by_severity
_.finished_at
_.input_fingerprint
_.period_filter
_.ignored_files
# Great Expectations registers expectation and metric classes by subclassing, and calls the
# metric functions with these keyword arguments
_.ColumnValuesValidGb11643
_.FundwatchCheckOutcome
_.execution_engine
_.metric_domain_kwargs
_.runtime_configuration
_.HASH_THRESHOLD  # read by GE's pandas engine (set to 0 to skip batch fingerprinting)
_.progress_bars  # read by GE's data context
# Prefect calls a retry condition with (task, task_run, state)
_.task_obj
_.task_run
# openpyxl reads these print-setup and style attributes when it writes the workbook
_.paperSize
_.fitToHeight
_.font
_.alignment
# SQLAlchemy reads the connection's isolation level set in the connect hook
_.isolation_level
# the context-manager protocol passes the exception triple
_.exc_info
# a module-level __getattr__ is how Python resolves fundwatch.rules_catalog.RULES lazily
_.__getattr__
# argparse looks its gettext alias up as argparse._ at call time
_._
# fitted attributes of the detector interface, read by analysts (scikit-learn style)
_.n_entities_
# the data contract's public names, for analysts and the docs (fundwatch.contract)
_.CONTRACT_VERSION
_.SUBSIDY_DATASETS
_.MEDICAL_DATASETS
