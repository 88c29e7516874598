"""An offline stand-in for the AI/ML API's Kling endpoints, faithful to ``shared/api/CONTRACT.md``.

What it does like the real API:

* every Kling video model of ``shared/api/kling-models`` on the paths that document it, each body
  checked by the API's own rules as written in :mod:`.models` (apart from the provider's
  validator); media as URLs or base64 (decoded; a non-image is a 400); the video has the
  requested aspect ratio and duration, with a sound track where the model makes one (:mod:`.video`);
* ``POST /v2/generate/video/kling/generation`` answers **201** (the 2025-09 spec) with the id;
  body validation errors are NestJS-style 400s; a bad key is a 401.
* the unified ``POST/GET /v2/video/generations`` too, with its own body rules (camera presets as
  strings, ``advanced_camera_control``, no ``external_task_id``) and each model's documented answer
  (``credits_used``; ``usd_spent`` beside it where the model's file requires it; ``video`` as an
  array of ``{url}`` for the v3 omni models; ``error: {name, message}``; 200 on create, whose
  answer already carries ``meta.usage``);
* a model the path's operations do not document is refused with a 400 naming the models it serves;
* ``GET /v2/generate/video/kling/generation?generation_id=`` walks ``queued -> generating ->
  completed``; a failed generation is **HTTP 200 with** ``status: "error"``; unknown ids are 404.
* Ids are opaque (by default a UUID with a ``:model`` suffix, slashes included).
* The video URL is signed and expires; it serves a real, small, valid MP4.

Magic words in the prompt steer one generation (case-insensitive):

========================  ===========================================================
``[sim:error]``            ends in ``status: "error"`` with a content-policy message
``[sim:never]``            stays ``generating`` forever (deadline tests)
``[sim:no-url]``           reports ``completed`` without a video URL
``[sim:odd-status]``       reports the legacy spelling ``"processing"`` while working
``[sim:unknown-status]``   reports the unknown status ``"rendering"`` while working
``[sim:lost-answer]``      is created, then its create answer is lost (504); logged
``[sim:lost-unlogged]``    is created, its answer lost (504), and no log row appears
``[sim:create-fails]``     the create fails inside the API (500); logged as failed
========================  ===========================================================

Test hooks (never faulted, no auth): ``GET /_sim/stats``, ``POST /_sim/reset``,
``POST /_sim/config`` (JSON with any :class:`SimulatorConfig` field; keeps generations, re-seeds),
``POST /_sim/finish`` (every unfinished render ends now: a test whose precondition is met, a
worker killed say, need not wait out the rest of a long render).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from importlib import resources
from typing import Any

from aiohttp import web

from airflow_provider_kling.simulator import account
from airflow_provider_kling.simulator.faults import FaultPlan
from airflow_provider_kling.simulator.models import ALIASES, check_body, sim_model
from airflow_provider_kling.simulator.video import render, shape_of

LEGACY_PATH = "/v2/generate/video/kling/generation"
UNIFIED_PATH = "/v2/video/generations"
TUPLE_SETTINGS = frozenset({"fault_kinds", "retired_paths", "legacy_models", "account_refusals"})


@dataclass
class SimulatorConfig:
    """Knobs; every one can be changed at runtime through ``POST /_sim/config``.

    :param api_key: the only key accepted; empty accepts any non-empty bearer token.
    :param generation_seconds: total render time with ``timing="fixed"`` (20% queued, 80% generating).
    :param timing: ``"fixed"`` or ``"realistic"`` (queued U(10,60) s, generating U(120,240) s; turbo models
        U(0,5) s and U(20,60) s; times ``time_scale``).
    :param time_scale: multiplies realistic timings (0.01 makes a 3-minute video take ~2 s).
    :param fault_rate: share of API requests that fail (see :mod:`.faults`).
    :param post_ambiguous_rate: share of create requests that create the generation, then fail.
    :param fault_kinds: restrict status-request faults to these kinds.
    :param slow_seconds: how long a ``slow`` fault stalls before answering.
    :param seed: seed for faults, timings and ids.
    :param id_style: ``"uuid-model"``, ``"number"`` or ``"nanoid"``.
    :param create_status: 201 (2025-09 spec) or 200 (later specs, full body).
    :param schema: ``"2025-11"`` (``tokens_used``, string error) or ``"unified"`` (``credits_used``, ``{name, message}``).
    :param max_concurrent: refuse creates with 429 beyond this many unfinished generations (0 = no limit).
    :param video_fault: ``""``, ``"truncated"``, ``"wrong_content"``, ``"expired"`` or ``"expired_once"``.
    :param video_size: bytes of the served video; above the sample's size it is padded (streamed).
    :param url_ttl: seconds a signed video URL stays valid.
    :param retired_paths: create paths gone from the API (``"legacy"``, ``"unified"``): a create there
        answers NestJS's 404 ``Cannot POST …``, as a retired route does.
    :param legacy_models: when set, the only models the legacy path still serves (others: its 400
        naming the models it serves), as when the API narrows what a path documents.
    :param balance: the account's balance in USD before any video is charged.
    :param log_delay: seconds before a request's row appears in ``GET /v2/logs``.
    :param post_error_rate: share of valid creates that fail inside the API before creating anything:
        a 500, logged as a failed request at zero cost.
    :param account_refusals: account endpoints that answer an error: ``"catalogue"`` (503, as when
        it cannot be reached) and/or ``"logs"`` (403, a key without access to the request log).
    :param bad_money: place -> the JSON text written there instead of its money figures, e.g.
        ``{"price": "NaN", "balance": "1e999", "usd_header": "-1", "usage": "Infinity"}``: every rate's
        ``price`` in the catalogue, ``current_balance``, the ``x-aimlapi-usd-spent`` /
        ``x-aimlapi-credits-used`` headers (``usd_header``, ``credits_header``; the text as it is) or every
        figure of ``meta.usage`` (``usage``). What is charged does not change.
    :param log_fault: a broken ``GET /v2/logs``: ``"endless"`` (every page says ``has_more``, its
        total grows with each page) or ``"empty_has_more"`` (no rows, ``has_more`` all the same).
    """

    api_key: str = ""
    generation_seconds: float = 4.0
    timing: str = "fixed"
    time_scale: float = 1.0
    fault_rate: float = 0.0
    post_ambiguous_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ()
    slow_seconds: float = 3.0
    seed: int = 0
    id_style: str = "uuid-model"
    create_status: int = 201
    schema: str = "2025-11"
    max_concurrent: int = 0
    video_fault: str = ""
    video_size: int = 0
    url_ttl: float = 3600.0
    retired_paths: tuple[str, ...] = ()
    legacy_models: tuple[str, ...] = ()
    balance: float = 100.0
    log_delay: float = 0.0
    post_error_rate: float = 0.0
    account_refusals: tuple[str, ...] = ()
    bad_money: dict[str, str] = field(default_factory=dict)
    log_fault: str = ""


@dataclass
class SimGeneration:
    """One generation the simulator renders: its body, its token and its timeline."""

    id: str
    token: str
    body: dict[str, Any]
    created: float
    queued_seconds: float
    generating_seconds: float
    video_requests: int = 0
    seconds: int = 5
    media_sha256: dict[str, str] = field(default_factory=dict)
    usd: float = 0.0

    @property
    def prompt(self) -> str:
        return str(self.body.get("prompt", "")).lower()

    @property
    def finishes_at(self) -> float:
        return (
            float("inf")
            if "[sim:never]" in self.prompt
            else self.created + self.queued_seconds + self.generating_seconds
        )

    def finish_by(self, now: float) -> None:
        """End the render at ``now`` at the latest (a test's precondition is met: no need to wait)."""
        self.queued_seconds = min(self.queued_seconds, max(0.0, now - self.created))
        self.generating_seconds = min(self.generating_seconds, max(0.0, now - self.created - self.queued_seconds))

    def status(self, now: float) -> str:
        if now < self.created + self.queued_seconds:
            return "queued"
        if now < self.finishes_at:
            if "[sim:unknown-status]" in self.prompt:
                return "rendering"
            return "processing" if "[sim:odd-status]" in self.prompt else "generating"
        return "error" if "[sim:error]" in self.prompt else "completed"


@dataclass
class Stats:
    """What the simulator was asked and did: counters the tests read through ``/_sim/stats``."""

    create_requests: int = 0
    creates: int = 0
    fetch_requests: int = 0
    video_requests: int = 0
    max_in_flight: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    creates_by_key: dict[str, int] = field(default_factory=dict)
    create_requests_by_key: dict[str, int] = field(default_factory=dict)
    creates_by_model: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    videos_rendered: int = 0
    catalogue_requests: int = 0
    catalogue_requests_with_key: int = 0
    catalogue_not_modified: int = 0
    log_requests: int = 0
    creates_without_client_request_id: int = 0


class Simulator:
    """The simulator's state and request handlers."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.secret = uuid.uuid4().hex.encode()
        self.sample = resources.files("airflow_provider_kling.simulator").joinpath("sample.mp4").read_bytes()
        #: Every id this simulator ever gave, kept across resets: the API never gives one twice.
        self.issued: set[str] = set()
        self.reset()

    def reset(self) -> None:
        """Forget every generation and counter; re-seed faults, timings and ids."""
        self.generations: dict[str, SimGeneration] = {}
        self.shapes: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.logs: list[account.LogRow] = []
        self.stats = Stats()
        self._peers: set[tuple[str, int]] = set()
        self.reseed()

    def reseed(self) -> None:
        self.faults = FaultPlan(
            rate=self.config.fault_rate,
            post_ambiguous_rate=self.config.post_ambiguous_rate,
            seed=self.config.seed,
            kinds=tuple(self.config.fault_kinds),
        )
        self.rng = random.Random(self.config.seed)

    # -- helpers ------------------------------------------------------------------------------

    def _error(self, request: web.Request, status: int, message: str | list[str], **headers: str) -> web.Response:
        body = {
            "message": message,
            "path": request.path_qs,
            "requestId": uuid.uuid4().hex,
            "statusCode": status,
            "timestamp": datetime.now(timezone.utc).isoformat(),
        }
        return web.json_response(body, status=status, headers=headers)

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return not self.config.api_key or hmac.compare_digest(token.strip(), self.config.api_key)

    def _new_id(self, model: str) -> str:
        """A generation id never given before (a re-seed, a reset, draws the same ids again)."""
        while True:
            candidate = self._draw_id(model)
            if candidate not in self.generations and candidate not in self.issued:
                self.issued.add(candidate)
                return candidate

    def _draw_id(self, model: str) -> str:
        style = self.config.id_style
        if style == "number":
            return str(self.rng.randrange(10**11, 10**12))
        if style == "nanoid":
            alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
            return "".join(self.rng.choice(alphabet) for _ in range(21))
        return f"{uuid.UUID(int=self.rng.getrandbits(128), version=4)}:{model}"

    def _timings(self, model: str) -> tuple[float, float]:
        if self.config.timing == "realistic":
            return realistic_timings(self.rng, self.config.time_scale, model=model)
        total = self.config.generation_seconds
        return total * 0.2, total * 0.8

    def _in_flight(self, now: float) -> int:
        return sum(1 for g in self.generations.values() if g.finishes_at > now)

    def _count_connection(self, request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer and tuple(peer[:2]) not in self._peers:
            self._peers.add(tuple(peer[:2]))
            self.stats.connections += 1

    def _count_fault(self, kind: str) -> None:
        self.stats.faults[kind] = self.stats.faults.get(kind, 0) + 1

    async def _fault_response(self, request: web.Request, kind: str) -> web.StreamResponse:
        self._count_fault(kind)
        if kind == "500_json":
            return self._error(request, 500, "Internal server error")
        if kind == "502_html":
            html = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
            return web.Response(status=502, text=html, content_type="text/html")
        if kind == "503":
            return self._error(request, 503, "Service temporarily unavailable")
        if kind == "504_timeout":
            return self._error(request, 504, "Generation timeout")
        if kind == "429_retry_after":
            return self._error(request, 429, "Too many requests", **{"Retry-After": "1"})
        if kind == "429_bare":
            return self._error(request, 429, "Too many concurrent tasks")
        if kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("simulated connection reset")
        if kind == "slow":
            await asyncio.sleep(self.config.slow_seconds)
            return self._error(request, 504, "Gateway timeout after a slow upstream")
        if kind == "bad_json":
            return web.Response(status=200, text='{"id": "truncated', content_type="application/json")
        raise ValueError(f"unknown fault {kind!r}")

    # -- API ----------------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.StreamResponse:
        response = await self._create(request)
        client_id = account.valid_client_request_id(request.headers.get("X-Client-Request-Id"))
        if client_id and isinstance(response, web.Response):
            response.headers["x-client-request-id"] = client_id
        return response

    def _log(self, request: web.Request, status: str, model: Any, usd: float = 0.0, inference_id: str = "") -> None:
        self.logs.append(
            account.LogRow(
                at=time.time(),
                status=status,
                model=str(ALIASES.get(model, model) if isinstance(model, str) else model),  # rows name the id
                usd=usd,
                inference_id=inference_id or uuid.uuid4().hex[:21],
                client_request_id=account.valid_client_request_id(request.headers.get("X-Client-Request-Id")),
            )
        )

    async def _create(self, request: web.Request) -> web.StreamResponse:
        unified = request.path == UNIFIED_PATH
        self.stats.create_requests += 1
        self._count_connection(request)
        if not self._authorized(request):
            return self._error(request, 401, "Unauthorized")
        before, after = self.faults.for_post()
        if before:
            return await self._fault_response(request, before)
        if ("unified" if unified else "legacy") in self.config.retired_paths:
            return self._error(request, 404, f"Cannot POST {request.path}")
        try:
            body = await request.json()
        except ValueError:
            return self._error(request, 400, ["body must be a JSON object"])
        problems = check_body(body, unified=unified)
        narrowed = self.config.legacy_models
        if not unified and narrowed and isinstance(body, dict) and body.get("model") not in narrowed:
            problems = [f"model must be one of the following values: {', '.join(narrowed)}"]
        model = body.get("model") if isinstance(body, dict) else None
        if problems:
            self._log(request, "failed", model)
            return self._error(request, 400, problems)
        now = time.time()
        if self.config.max_concurrent and self._in_flight(now) >= self.config.max_concurrent:
            self._count_fault("429_concurrency")
            self._log(request, "failed", model)
            return self._error(request, 429, "Too many concurrent tasks")
        if not account.valid_client_request_id(request.headers.get("X-Client-Request-Id")):
            self.stats.creates_without_client_request_id += 1
        words = str(body.get("prompt", "")).lower()
        key = str(body.get("external_task_id") or body.get("prompt"))
        self.stats.create_requests_by_key[key] = self.stats.create_requests_by_key.get(key, 0) + 1
        if "[sim:create-fails]" in words or (
            self.config.post_error_rate and self.rng.random() < self.config.post_error_rate
        ):
            self._log(request, "failed", model)
            return self._error(request, 500, "Internal server error")
        generation = self._create_generation(body, now)
        if "[sim:lost-unlogged]" not in words:
            self._log(request, "succeeded", model, generation.usd, generation.id)
        if "[sim:lost-answer]" in words or "[sim:lost-unlogged]" in words:
            after = "504_timeout"
        if after:
            return await self._fault_response(request, after)
        cost = self._cost_headers(generation.id, generation.usd)
        if unified or self.config.create_status == 200:
            answer = self._generation_body(generation, now, request)
            if unified:
                answer["meta"] = {"usage": self._usage(generation, unified=True)}
            return web.json_response(answer, status=200, headers=cost, dumps=account.dumps)
        return web.json_response({"id": generation.id, "status": "queued"}, status=201, headers=cost)

    def _cost_headers(self, inference_id: str, usd: float) -> dict[str, str]:
        bad = self.config.bad_money
        return {
            "x-inference-id": inference_id,
            "x-aimlapi-credits-used": bad.get("credits_header", str(round(usd * account.CREDITS_PER_USD))),
            "x-aimlapi-usd-spent": bad.get("usd_header", f"{usd:.9f}"),
        }

    def _create_generation(self, body: dict[str, Any], now: float) -> SimGeneration:
        queued, generating = self._timings(str(body["model"]))
        shape = shape_of(body)  # decodes an inline image: once per create
        generation = SimGeneration(
            id=self._new_id(str(body["model"])),
            token=uuid.uuid4().hex,
            # Inline media is decoded and checked on create; keeping megabytes of it per generation
            # would only grow the simulator's memory over a long benchmark.
            body={key: value for key, value in body.items() if not _is_inline_media(value)},
            media_sha256={key: _digest(value) for key, value in body.items() if _is_inline_media(value)},
            created=now,
            queued_seconds=queued,
            generating_seconds=generating,
            seconds=shape.seconds,
            usd=account.charge_usd(body, shape.seconds),
        )
        self.shapes[generation.id] = shape
        self.generations[generation.id] = generation
        self.tokens[generation.token] = generation.id
        self.stats.creates += 1
        key = str(body.get("external_task_id") or body.get("prompt"))
        self.stats.creates_by_key[key] = self.stats.creates_by_key.get(key, 0) + 1
        model = str(body["model"])
        self.stats.creates_by_model[model] = self.stats.creates_by_model.get(model, 0) + 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self._in_flight(now))
        return generation

    async def fetch(self, request: web.Request) -> web.StreamResponse:
        self.stats.fetch_requests += 1
        self._count_connection(request)
        if not self._authorized(request):
            return self._error(request, 401, "Unauthorized")
        fault = self.faults.for_get()
        if fault:
            return await self._fault_response(request, fault)
        generation_id = request.query.get("generation_id")
        if not generation_id:
            return self._error(request, 400, ["generation_id should not be empty", "generation_id must be a string"])
        generation = self.generations.get(generation_id)
        if generation is None:
            return self._error(request, 404, f"Generation {generation_id} not found")
        return web.json_response(
            self._generation_body(generation, time.time(), request),
            headers=self._cost_headers(generation.id, 0.0),
            dumps=account.dumps,
        )

    def _generation_body(self, generation: SimGeneration, now: float, request: web.Request) -> dict[str, Any]:
        status = generation.status(now)
        unified = self.config.schema == "unified" or request.path == UNIFIED_PATH
        body: dict[str, Any] = {"id": generation.id, "status": status, "video": None, "error": None, "meta": None}
        duration = generation.seconds
        answer = self._answer_shape(generation) if unified else "legacy"
        if status == "completed":
            if "[sim:no-url]" not in generation.prompt:
                video: dict[str, Any] = {"url": self._video_url(generation, request, now)}
                if not unified:
                    video["duration"] = duration
                body["video"] = [video] if answer == "omni" else video
            if not unified:
                body["duration"] = duration
            body["meta"] = {"usage": self._usage(generation, unified=unified)}
        elif status == "error":
            message = "The prompt was rejected by the content policy"
            body["error"] = {"name": "ContentPolicyViolation", "message": message} if unified else message
        return body

    @staticmethod
    def _answer_shape(generation: SimGeneration) -> str:
        model = sim_model(generation.body.get("model"))
        return model.answer if model is not None else "classic"

    def _usage(self, generation: SimGeneration, *, unified: bool) -> dict[str, Any]:
        """``meta.usage`` as the model's file documents it: the generation's charge."""
        credits = round(generation.usd * account.CREDITS_PER_USD)
        if not unified:
            usage: dict[str, Any] = {"tokens_used": credits}
        elif self._answer_shape(generation) == "classic":
            usage = {"credits_used": credits}
        else:
            usage = {"credits_used": credits, "usd_spent": generation.usd}
        bad = self.config.bad_money.get("usage")
        return usage if bad is None else dict.fromkeys(usage, account.RawJSON(bad))

    def _video_url(self, generation: SimGeneration, request: web.Request, now: float) -> str:
        expires = int(now + self.config.url_ttl)
        signature = self._sign(generation.token, expires)
        return f"{request.scheme}://{request.host}/videos/{generation.token}.mp4?expires={expires}&sig={signature}"

    def _sign(self, token: str, expires: int) -> str:
        return hmac.new(self.secret, f"{token}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    async def video(self, request: web.Request) -> web.StreamResponse:
        self.stats.video_requests += 1
        token = request.match_info["token"]
        generation_id = self.tokens.get(token)
        try:
            expires = int(request.query.get("expires", "0"))
        except ValueError:
            expires = 0
        signature_ok = hmac.compare_digest(self._sign(token, expires), request.query.get("sig", ""))
        if generation_id is None or not signature_ok or expires < time.time():
            return web.Response(
                status=403,
                text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                content_type="application/xml",
            )
        generation = self.generations[generation_id]
        generation.video_requests += 1
        fault = self.config.video_fault
        if fault == "expired" or (fault == "expired_once" and generation.video_requests == 1):
            self._count_fault("video_expired")
            return web.Response(
                status=403,
                text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                content_type="application/xml",
            )
        if fault == "wrong_content":
            self._count_fault("video_wrong_content")
            return web.Response(status=200, text="<html><body>Not a video</body></html>", content_type="video/mp4")
        return await self._stream_video(request, generation, truncated=fault == "truncated")

    def _video_of(self, generation: SimGeneration) -> bytes:
        shape = self.shapes.get(generation.id)
        rendered = render(shape) if shape is not None else None
        if rendered is None:
            return self.sample
        self.stats.videos_rendered = render.cache_info().currsize
        return rendered

    async def _stream_video(
        self, request: web.Request, generation: SimGeneration, *, truncated: bool
    ) -> web.StreamResponse:
        video = await asyncio.to_thread(self._video_of, generation)
        size = max(self.config.video_size, len(video))
        response = web.StreamResponse(status=200, headers={"Content-Type": "video/mp4", "Content-Length": str(size)})
        await response.prepare(request)
        to_send = size // 2 if truncated else size
        for chunk in _video_chunks(video, size, limit=to_send):
            await response.write(chunk)
        if truncated:
            self._count_fault("video_truncated")
            if request.transport is not None:
                request.transport.abort()
            return response
        await response.write_eof()
        return response

    # -- account ------------------------------------------------------------------------------

    async def models(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/models``: no key needed; an ETag, and 304 when ``If-None-Match`` matches it."""
        self.stats.catalogue_requests += 1
        if "catalogue" in self.config.account_refusals:
            return self._error(request, 503, "Service temporarily unavailable")
        if "Authorization" in request.headers:
            self.stats.catalogue_requests_with_key += 1
        body = account.catalogue(request.query.get("include", ""), request.query.get("id"))
        if "price" in self.config.bad_money:
            body = account.with_bad_prices(body, self.config.bad_money["price"])
        etag = account.etag_of(body)
        if request.headers.get("If-None-Match") == etag:
            self.stats.catalogue_not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.json_response(body, headers={"ETag": etag}, dumps=account.dumps)

    async def billing(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._error(request, 401, "Unauthorized")
        now = time.time()
        spent = sum(g.usd for g in self.generations.values() if g.status(now) == "completed")
        balance: Any = round(self.config.balance - spent, 6)
        if "balance" in self.config.bad_money:
            balance = account.RawJSON(self.config.bad_money["balance"])
        return web.json_response({"current_balance": balance, "currency": "USD"}, dumps=account.dumps)

    async def logs_page(self, request: web.Request) -> web.StreamResponse:
        """``GET /v2/logs``: rows by time window, model and status, newest first, paged."""
        self.stats.log_requests += 1
        if not self._authorized(request):
            return self._error(request, 401, "Unauthorized")
        if "logs" in self.config.account_refusals:
            return self._error(request, 403, "This key may not read the usage logs")
        now = time.time()
        query = account.log_query(request.query, now)
        if isinstance(query, str):
            return self._error(request, 400, query)
        rows = [row for row in reversed(self.logs) if row.at + self.config.log_delay <= now and query.keeps(row)]
        limit, offset = query.limit, query.offset
        page = rows[offset : offset + limit]
        pagination = {"limit": limit, "offset": offset, "total": len(rows), "has_more": offset + limit < len(rows)}
        if self.config.log_fault == "endless":
            page = (rows * limit)[:limit]
            pagination.update(total=offset + 2 * limit, has_more=True)
        elif self.config.log_fault == "empty_has_more":
            page = []
            pagination["has_more"] = True
        return web.json_response({"data": [row.to_api() for row in page], "pagination": pagination})

    # -- test hooks ---------------------------------------------------------------------------

    async def get_stats(self, request: web.Request) -> web.Response:
        now = time.time()
        stats = asdict(self.stats)
        stats["in_flight"] = self._in_flight(now)
        if request.query.get("light"):
            return web.json_response(stats)
        stats["generations"] = {
            g.id: {
                "status": g.status(now),
                "prompt": g.body.get("prompt"),
                "external_task_id": g.body.get("external_task_id"),
                "model": g.body.get("model"),
                "fields": sorted(g.body),
                "media_sha256": g.media_sha256,
                "media_urls": {
                    k: v for k, v in g.body.items() if isinstance(v, str) and v.startswith(("http://", "https://"))
                },
                "usd": g.usd,
                "created_at": g.created,
                "finishes_at": g.finishes_at if g.finishes_at != float("inf") else None,
            }
            for g in self.generations.values()
        }
        return web.json_response(stats)

    async def post_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def post_finish(self, request: web.Request) -> web.Response:
        now = time.time()
        unfinished = [g for g in self.generations.values() if now < g.finishes_at < float("inf")]
        for generation in unfinished:
            generation.finish_by(now)
        return web.json_response({"finished": len(unfinished)})

    async def post_config(self, request: web.Request) -> web.Response:
        updates = await request.json()
        known = {f.name: f for f in fields(SimulatorConfig)}
        unknown = sorted(set(updates) - set(known))
        if unknown:
            return web.json_response({"error": f"unknown settings {unknown}"}, status=400)
        unplaced = sorted(set(updates.get("bad_money") or {}) - account.BAD_MONEY_PLACES)
        if unplaced:
            return web.json_response({"error": f"unknown bad_money places {unplaced}"}, status=400)
        for name, value in updates.items():
            setattr(self.config, name, tuple(value) if name in TUPLE_SETTINGS else value)
        self.reseed()  # generations survive a config change; POST /_sim/reset forgets them
        return web.json_response(asdict(self.config))


def realistic_timings(rng: random.Random, scale: float = 1.0, *, model: str = "") -> tuple[float, float]:
    """(queued, generating) seconds of one generation, times ``scale``.

    U(10, 60) then U(120, 240); the turbo models U(0, 5) then U(20, 60).

    Kling's docs: 1-5 minutes per video; their own sample took 3 min 06 s. Turbo models are sold on speed.
    """
    if "turbo" in model:
        return rng.uniform(0, 5) * scale, rng.uniform(20, 60) * scale
    return rng.uniform(10, 60) * scale, rng.uniform(120, 240) * scale


def _video_chunks(sample: bytes, size: int, *, limit: int, chunk_size: int = 1 << 20) -> Any:
    """The sample MP4, padded to ``size`` bytes with a trailing ``free`` box, up to ``limit`` bytes."""
    if size <= len(sample):
        yield sample[:limit]
        return
    padding = size - len(sample)
    header = (
        padding.to_bytes(4, "big") + b"free"
        if padding < 2**32
        else (1).to_bytes(4, "big") + b"free" + padding.to_bytes(8, "big")
    )
    data = sample + header
    sent = 0
    zeros = bytes(chunk_size)
    while sent < limit:
        piece = data[sent : sent + chunk_size] if sent < len(data) else zeros[: min(chunk_size, size - sent)]
        piece = piece[: limit - sent]
        if not piece:
            break
        yield piece
        sent += len(piece)


def _digest(value: Any) -> str:
    """SHA-256 of inline media as decoded (the first item of a list), so tests can check the bytes sent."""
    import base64

    first = value[0] if isinstance(value, list) else value
    try:
        return hashlib.sha256(base64.b64decode(str(first))).hexdigest()
    except ValueError:
        return ""


def _is_inline_media(value: Any) -> bool:
    """A long base64 string (or a list holding one): media sent inline."""
    if isinstance(value, list):
        return any(_is_inline_media(item) for item in value)
    if isinstance(value, dict):
        return any(_is_inline_media(item) for item in value.values())
    return isinstance(value, str) and len(value) > 1024 and " " not in value


#: Inline media makes big bodies: a 20 MB image is 27 MB of base64.
MAX_BODY_BYTES = 64 * 1024 * 1024


def build_app(simulator: Simulator) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(LEGACY_PATH, simulator.create)
    app.router.add_get(LEGACY_PATH, simulator.fetch)
    app.router.add_post(UNIFIED_PATH, simulator.create)
    app.router.add_get(UNIFIED_PATH, simulator.fetch)
    app.router.add_get("/videos/{token}.mp4", simulator.video)
    app.router.add_get("/v1/models", simulator.models)
    app.router.add_get("/v2/billing", simulator.billing)
    app.router.add_get("/v2/logs", simulator.logs_page)
    app.router.add_get("/_sim/stats", simulator.get_stats)
    app.router.add_post("/_sim/reset", simulator.post_reset)
    app.router.add_post("/_sim/config", simulator.post_config)
    app.router.add_post("/_sim/finish", simulator.post_finish)
    app["simulator"] = simulator
    return app


def config_summary(config: SimulatorConfig) -> str:
    return json.dumps({k: v for k, v in asdict(config).items() if k != "api_key"})
