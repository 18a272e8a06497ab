"""Dashboards (issue 7): county, town and provider statistics with ECharts and Excel."""
