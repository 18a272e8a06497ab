"""The monitoring rule engine: rule packs of YAML + SQL, run on DuckDB (default) or Spark.

Pure Python (no Django): the web application, the command line and the benchmark all
drive it. See docs/engine.md.
"""
