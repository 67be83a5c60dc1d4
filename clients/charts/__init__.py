"""Forecast charts: one picture, drawn in the terminal (plotext) or as an image (matplotlib)."""
