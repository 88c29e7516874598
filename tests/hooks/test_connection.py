from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from airflow_provider_kling.exceptions import KlingConfigurationError
from airflow_provider_kling.hooks.connection import DEFAULT_BASE_URL, resolve_base_url, settings_from_connection


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        (None, None, None, DEFAULT_BASE_URL),
        ("", "", None, DEFAULT_BASE_URL),
        ("api.aimlapi.com", None, None, "https://api.aimlapi.com"),
        ("api.aimlapi.com", "http", None, "http://api.aimlapi.com"),
        ("https://api.aimlapi.com", None, None, "https://api.aimlapi.com"),
        ("https://api.aimlapi.com/", None, None, "https://api.aimlapi.com"),
        ("http://127.0.0.1:8080", None, None, "http://127.0.0.1:8080"),
        ("127.0.0.1", "http", 8080, "http://127.0.0.1:8080"),
        ("http://127.0.0.1", None, 9000, "http://127.0.0.1:9000"),
        ("https://gateway.corp/aiml", None, None, "https://gateway.corp/aiml"),
        ("http://[::1]:8080", None, None, "http://[::1]:8080"),
    ],
)
def test_base_url_spellings(host, schema, port, expected):
    assert resolve_base_url(host, schema, port) == expected


@pytest.mark.parametrize(
    ("host", "fragment"),
    [
        ("ftp://files.example", "must use http:// or https://"),
        ("http://", "not a valid host"),
        ("api example.com", "not a valid host"),
        ("http://host:99999", "invalid port"),
    ],
)
def test_malformed_hosts_are_refused(host, fragment):
    with pytest.raises(KlingConfigurationError, match=fragment):
        resolve_base_url(host)


def test_uri_connection():
    conn = Connection.from_uri("kling://:my-key@api.aimlapi.com", conn_id="kling_default")
    settings = settings_from_connection(conn)
    assert settings.base_url == "https://api.aimlapi.com"
    assert settings.api_key == "my-key"
    assert "my-key" not in repr(settings)


def test_json_connection_with_scheme_in_host_and_timeout_extra():
    conn = Connection.from_json(
        '{"conn_type": "kling", "host": "http://127.0.0.1:8080", "password": "k", "extra": {"timeout": 5}}',
        conn_id="kling_default",
    )
    settings = settings_from_connection(conn)
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.read_timeout == 5.0


def test_missing_key_says_where_to_put_it():
    conn = Connection(conn_id="kling_default", conn_type="kling", host="api.aimlapi.com")
    with pytest.raises(KlingConfigurationError, match="has no API key.*password"):
        settings_from_connection(conn)


def test_key_may_come_from_extra():
    conn = Connection(conn_id="k", conn_type="kling", extra='{"api_key": "from-extra"}')
    assert settings_from_connection(conn).api_key == "from-extra"


@pytest.mark.parametrize("timeout", ["0", -1, "soon"])
def test_bad_timeout_extra(timeout):
    conn = Connection(conn_id="k", conn_type="kling", password="p", extra=json.dumps({"timeout": timeout}))
    with pytest.raises(KlingConfigurationError, match="'timeout' must be a finite, positive number"):
        settings_from_connection(conn)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # What the UI's connection form saves for fields left empty.
        ({"timeout": None, "connect_timeout": None, "endpoint": None, "verify": None}, (60.0, 10.0, "auto", True)),
        ({"timeout": "", "connect_timeout": "", "endpoint": "", "verify": ""}, (60.0, 10.0, "auto", True)),
        (
            {"timeout": 30, "connect_timeout": "2.5", "endpoint": "Unified", "verify": "false"},
            (30.0, 2.5, "unified", False),
        ),
        ({"verify": "/etc/ssl/private-ca.pem"}, (60.0, 10.0, "auto", "/etc/ssl/private-ca.pem")),
        ({"verify": False, "endpoint": "legacy"}, (60.0, 10.0, "legacy", False)),
    ],
)
def test_extras_from_the_connection_form(extra, expected):
    conn = Connection(conn_id="k", conn_type="kling", password="p", extra=json.dumps(extra))
    settings = settings_from_connection(conn)
    assert (settings.read_timeout, settings.connect_timeout, settings.endpoint, settings.verify) == expected


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"endpoint": "v3"}, "'endpoint' must be one of auto, legacy, unified"),
        ({"verify": 3}, "'verify' must be true, false or a CA bundle path"),
        ({"connect_timeout": 0}, "'connect_timeout' must be a finite, positive number"),
    ],
)
def test_bad_extras_name_the_field_and_the_allowed_values(extra, message):
    conn = Connection(conn_id="k", conn_type="kling", password="p", extra=json.dumps(extra))
    with pytest.raises(KlingConfigurationError, match=message):
        settings_from_connection(conn)


SECONDS_EXTRAS = ["timeout", "connect_timeout", "prices_max_age", "request_log_wait"]


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("NaN", "nan"),  # JSON as Python writes and reads it
        ("Infinity", "inf"),
        ("-Infinity", "-inf"),
        ("1e999", "inf"),
        ('"nan"', "'nan'"),  # what the connection form saves: text
        ('"inf"', "'inf'"),
        ('"-1"', "'-1'"),
        ("true", "True"),
        ("1" + "0" * 400, "1000"),  # an integer beyond any float
    ],
)
@pytest.mark.parametrize("key", SECONDS_EXTRAS)
def test_an_extra_of_seconds_that_is_not_finite_and_positive_is_refused_naming_it(key, raw, named):
    # request_log_wait=NaN made the request-log look-up loop forever: no comparison with NaN is true.
    conn = Connection(conn_id="k", conn_type="kling", password="p", extra=f'{{"{key}": {raw}}}')
    with pytest.raises(KlingConfigurationError) as refused:
        settings_from_connection(conn)
    assert f"Connection 'k': extra '{key}' must be a finite, positive number of seconds, got {named}" in str(
        refused.value
    )


@pytest.mark.parametrize("key", ["timeout", "connect_timeout"])
def test_a_timeout_too_long_for_a_socket_fails_the_task_before_any_request(simulator, monkeypatch, key):
    # timeout=1e300 is finite: the create was sent, then reading its answer raised OverflowError (a plain
    # error: the generation paid for, its id never recorded, every retry's log look-up failing the same way).
    from airflow_provider_kling.operators.kling import KlingTextToVideoOperator
    from airflow_provider_kling.version_compat import AirflowFailException
    from harness.airflow_context import make_context
    from harness.simulated import API_KEY

    conn = {"conn_type": "kling", "host": simulator.url, "password": API_KEY, "extra": {key: 1e300}}
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", json.dumps(conn))
    op = KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse")
    with pytest.raises(
        AirflowFailException, match=f"extra '{key}' must be .*, got 1e\\+300 \\(at most 31536000, a year\\)"
    ):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


def test_a_connection_with_a_nan_extra_fails_the_task_before_any_request(simulator, monkeypatch):
    from airflow_provider_kling.operators.kling import KlingTextToVideoOperator
    from airflow_provider_kling.version_compat import AirflowFailException
    from harness.airflow_context import make_context
    from harness.simulated import API_KEY

    conn = {"conn_type": "kling", "host": simulator.url, "password": API_KEY, "extra": {"request_log_wait": "nan"}}
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", json.dumps(conn))
    op = KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse")
    with pytest.raises(AirflowFailException, match="extra 'request_log_wait' must be a finite, positive number"):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0
