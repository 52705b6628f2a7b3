"""The synthetic city: a county in the contract's shape with planted anomalies and look-alikes.

>>> from fundwatch.synth import generate_city, write_city
>>> city = generate_city(5_000, seed=7)          # doctest: +SKIP
>>> write_city(city, "out", dirty=True)          # doctest: +SKIP
"""

from fundwatch.synth.city import City, generate_city
from fundwatch.synth.config import SynthConfig
from fundwatch.synth.labels import LABEL_SCHEMA
from fundwatch.synth.writer import DIRTY_ROWS_SCHEMA, write_city

__all__ = ["City", "SynthConfig", "generate_city", "write_city", "LABEL_SCHEMA", "DIRTY_ROWS_SCHEMA"]
