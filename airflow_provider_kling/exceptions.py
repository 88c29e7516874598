"""Errors raised by every layer of the provider.

Two families decide what Airflow does with a failure:

* :class:`KlingPermanentError` -- retrying cannot help (bad input, bad key, no credits, a failed
  generation, a submission whose outcome is unknown). Operators turn it into
  ``AirflowFailException`` so DAG-level ``retries`` do not become a retry storm or a second bill.
* :class:`KlingTransientError` -- the API may answer later (429, 5xx, resets, timeouts, garbled
  bodies). The shared retry policy (:mod:`airflow_provider_kling.retry`) retries these with
  backoff; when its budget is spent the task fails normally and Airflow may retry it.

This module has no third-party imports so any layer can raise these cheaply.
"""

from __future__ import annotations

from typing import Any, ClassVar


class KlingError(Exception):
    """Base class for every error raised by the Kling provider."""


class KlingPermanentError(KlingError):
    """A failure that will not go away by trying again."""


class KlingTransientError(KlingError):
    """A failure that may go away by trying again later.

    :param retry_after: seconds the server asked us to wait, when it said so.
    :param safe_to_resend: True when the request provably did not reach the API's business
        logic (nothing was created), so even a non-idempotent POST may be sent again.
    """

    #: False for failures that a task retry may cure but an immediate in-task retry cannot.
    retry_in_task: ClassVar[bool] = True

    def __init__(self, message: str, *, retry_after: float | None = None, safe_to_resend: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.safe_to_resend = safe_to_resend


class KlingValidationError(KlingPermanentError, ValueError):
    """Bad input, found before any request was sent.

    :param problems: one readable sentence per problem, each naming the field and what is allowed.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"Invalid Kling request: {self.problems[0]}"
        else:
            message = "Invalid Kling request:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class KlingConfigurationError(KlingPermanentError):
    """The Airflow connection is unusable (no API key, malformed host...)."""


class KlingAPIError(KlingPermanentError):
    """The API refused the request with a 4xx status that retrying cannot fix.

    :param status_code: the HTTP status.
    :param request_id: the API's ``requestId`` when it sent one (quote it to support).
    :param api_message: what the API's body said, on one line.
    """

    def __init__(self, message: str, *, status_code: int, request_id: str | None = None, api_message: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.api_message = api_message


class KlingServerError(KlingTransientError):
    """The API or a proxy in front of it answered 429 or 5xx."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        retry_after: float | None = None,
        safe_to_resend: bool = False,
    ):
        super().__init__(message, retry_after=retry_after, safe_to_resend=safe_to_resend)
        self.status_code = status_code
        self.request_id = request_id


class KlingConnectionError(KlingTransientError):
    """The request failed below HTTP: refused, reset, timed out, TLS failure."""


class KlingStorageSetupError(KlingPermanentError):
    """A storage path cannot work as set up; the message names the path and the fix.

    No filesystem for its scheme, no such connection, missing or refused credentials, no such bucket.
    """


class KlingStorageError(KlingTransientError):
    """A storage did not answer as it should (timeout, throttling, 5xx): Airflow's retries apply."""

    retry_in_task = False


class KlingResponseError(KlingTransientError):
    """The API answered 2xx with a body we cannot use (not JSON, missing fields)."""


class KlingSubmissionUnknownError(KlingPermanentError):
    """A create request failed after it was sent: a generation may or may not exist (and be billed).

    It is never retried automatically, because the API has no way to look a generation up by
    anything but its id and a second POST is a second bill.
    """

    #: How many times the create went out under its client request id (a 429/503 is resent), when known.
    sends: int | None = None


class KlingLedgerError(KlingPermanentError):
    """The record that keeps a task from paying twice cannot be written (or read back): nothing is sent."""


class KlingCreateLimitError(KlingPermanentError):
    """Another create would exceed the task instance's ceiling (one per generation, plus those proven void)."""


class KlingGenerationFailed(KlingPermanentError):
    """The API reported ``status: error`` for the generation.

    :param generation_id: the generation's id.
    :param api_message: the API's own description of the failure.
    :param generation: the failed generation as XCom data, when it was fetched.
    """

    def __init__(self, generation_id: str, api_message: str, *, generation: dict[str, Any] | None = None):
        super().__init__(f"Kling generation {generation_id} failed: {api_message}")
        self.generation_id = generation_id
        self.api_message = api_message
        self.generation = generation


class KlingWaitTimeout(KlingTransientError):
    """The deadline passed before the generation finished.

    Transient for an operator: Airflow retries it and the retry reattaches to the same generation.
    A sensor's timeout is final instead (``tasks.failures`` makes the difference).
    """

    def __init__(self, message: str, *, generation: dict[str, Any] | None = None):
        super().__init__(message)
        self.generation = generation


class KlingDownloadError(KlingTransientError):
    """The video download was cut short (fewer bytes than ``Content-Length``) or failed below HTTP."""


class KlingVideoContentError(KlingDownloadError):
    """The video URL served something that is not an MP4 (no ``ftyp`` box). Not retried in-task."""

    retry_in_task = False


class KlingVideoUrlRejected(KlingPermanentError):
    """The CDN answered 401/403/404/410 for the video URL: usually an expired signature.

    :param status_code: the CDN's HTTP status.
    """

    def __init__(self, message: str, *, status_code: int):
        super().__init__(message)
        self.status_code = status_code


class KlingVideoUrlExpired(KlingPermanentError):
    """The CDN refused the video URL even after fetching a fresh one from the API."""
