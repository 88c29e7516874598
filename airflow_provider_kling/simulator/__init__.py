"""Offline AI/ML API simulator for Kling text-to-video (``python -m airflow_provider_kling.simulator``).

Users test their DAGs against it without an API key or credits; this project's tests and demo use
it over real HTTP. See :mod:`airflow_provider_kling.simulator.app` for what it emulates.
"""
