"""Rendering of an `Analysis`: terminal summary (and, later, HTML). Computes no metric."""
