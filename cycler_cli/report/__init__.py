"""Renderers: turn library results (dicts, reports) into text, JSON, CSV or pictures.

Only renderers know display units ("mAh/g", "kΩ·cm²"); they never compute metrics.
"""
