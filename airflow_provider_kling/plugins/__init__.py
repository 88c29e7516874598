"""Airflow UI plugin: a Video tab on Kling task instances (see :mod:`.plugin`)."""
