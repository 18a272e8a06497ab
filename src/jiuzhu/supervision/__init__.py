"""Supervision (issue 7): revisits, provider scorecards and traffic lights, projects and
their evaluation. The pure parts come first (sampling.py, lights.py); the app's models,
services and pages build on them."""
