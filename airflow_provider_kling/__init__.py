"""Apache Airflow provider for the AI/ML API's Kling text-to-video models.

Importing this package must stay cheap: it runs while Airflow parses DAG files.
"""

__version__ = "0.1.0"
