"""Inline assets of the HTML report (CSS and script), shipped as package data."""
