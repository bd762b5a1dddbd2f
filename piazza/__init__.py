"""Piazza's own tools: the code behind the invoke tasks in tasks.py."""
