"""Test and benchmark harness (not shipped): the simulator wired as a connection, throwaway
Airflow homes, a real distributed deployment, certificates, a stand-in task context.

Shared by ``tests/`` and ``bench/``, so neither imports the other.
"""
