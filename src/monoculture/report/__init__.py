"""Rendering of an analysis: the terminal summary and the HTML page. Computes no metric."""
