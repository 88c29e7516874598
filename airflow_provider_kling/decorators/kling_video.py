"""``@task.kling_video``: a TaskFlow task whose function returns the prompt (or the parameters).

The function runs like any TaskFlow task; what it returns is validated, submitted once (with the
same idempotent-submit ledger as the operator), awaited in the triggerer, optionally downloaded,
and a small result dict is returned for downstream tasks::

    @task.kling_video(aspect_ratio="9:16", destination="s3://bucket/clips/")
    def clip(product: dict) -> str:
        return f"A slow pan over {product['name']} on a marble table"

    clip.expand(product=products)

Retries and clears: an automatic retry never pays for a second video, even when the function words
its prompt anew on each run (an LLM call, ``random.choice``, the time): the task instance's ledger
record, written since its last clear, is carried on with whatever the function now returns (the log
says when it differs). A clear runs the function again and, as for the operators, generates anew
when the request differs from the one recorded (an edited function, other arguments, or a new
wording) and reattaches when it is the same; what the earlier request paid for stays recorded. To
keep one wording across clears, write it in an upstream task: its XCom stays when only this task is
cleared. (Keying the generation on the function's code and arguments instead was weighed and not
chosen: what the function reads besides its arguments, a Variable or a file, would then be edited
and cleared without effect.)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.bases.decorator import DecoratedOperator, TaskDecorator, task_decorator_factory

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models import DEFAULT_MODEL
from airflow_provider_kling.models.named_fields import NAMED_FIELDS, by_argument_name, request_params, split_named
from airflow_provider_kling.models.values import describe
from airflow_provider_kling.operators.kling import KlingVideoOperator
from airflow_provider_kling.task_outputs import RETURN_SUMMARY, task_summary
from airflow_provider_kling.tasks.delivering import deliver_result
from airflow_provider_kling.version_compat import context_merge, determine_kwargs

if TYPE_CHECKING:
    from airflow.sdk import Context

_PROMPT_FROM_FUNCTION = "(returned by the decorated function)"


def params_from_returned(
    returned: Any, model: Any, named: Mapping[str, Any], parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """The request: what the function returned over the decorator's arguments.

    The returned dict takes the operator's names (``image``, ``tail_image`` ...; each field once)
    and may name another ``model``, for which every named field is then sent.

    :param returned: a prompt string, or a dict of generation fields.
    :param model: the decorator's model.
    :param named: the decorator's named arguments (``prompt`` the placeholder unless one was given).
    :param parameters: the decorator's ``parameters``.
    :raises KlingValidationError: when the value is neither, or a field is given twice.
    """
    named = {key: value for key, value in named.items() if not (key == "prompt" and value == _PROMPT_FROM_FUNCTION)}
    if isinstance(returned, str):
        return request_params(model, {**named, "prompt": returned}, parameters)
    if not isinstance(returned, Mapping):
        raise KlingValidationError(
            [
                "a function decorated with @task.kling_video must return a prompt string or a dict of generation "
                f"parameters (prompt, duration, image, aspect_ratio ... as KlingVideoOperator names them), "
                f"got {type(returned).__name__} {describe(returned)}"
            ]
        )
    given, fields = split_named(returned, "the function's returned dict: ")
    chosen = fields.pop("model", None) or model
    # What the function returned wins over the decorator's argument of the same field, by either name.
    defaults = {key: value for key, value in by_argument_name(named).items() if key not in given}
    return request_params(chosen, {**defaults, **given}, {**parameters, **fields})


class _KlingVideoDecoratedOperator(DecoratedOperator, KlingVideoOperator):
    """
    Runs the decorated function, then generates the video it describes (deferred while rendering).

    An automatic retry carries on with the generation its task instance started, whatever the
    function returns on that try; a clear generates what the function returns when it differs from
    what was made (see the module's "Retries and clears").

    :param python_callable: the decorated function; returns a prompt or a parameter dict.
    :param op_args: positional arguments for the function (templated).
    :param op_kwargs: keyword arguments for the function (templated).
    :param kwargs: any :class:`KlingVideoOperator` argument, used as defaults (``model`` defaults to
        ``kling-video/v1.6/pro/text-to-video``); ``destination`` (with ``overwrite`` and ``metadata``)
        also stores the video, as for every generating operator. The task always waits.
    """

    template_fields: Sequence[str] = (
        *DecoratedOperator.template_fields,
        *NAMED_FIELDS,
        "kling_conn_id",
        "destination",
        "metadata",
        "max_usd",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {**DecoratedOperator.template_fields_renderers}
    custom_operator_name: str = "@task.kling_video"

    def __init__(
        self,
        *,
        python_callable: Callable,
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not kwargs.get("wait_for_completion", True):
            raise KlingValidationError(
                [
                    "@task.kling_video always waits for its video; use KlingVideoOperator(wait_for_completion=False) to only submit"
                ]
            )
        kwargs.setdefault("prompt", _PROMPT_FROM_FUNCTION)
        kwargs.setdefault("model", DEFAULT_MODEL)
        super().__init__(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, **kwargs)
        self._returned: Any = None  # what the function returned, once it ran

    def execute(self, context: Context) -> Any:
        # DecoratedOperator comes first in the MRO and its execute only calls the function: the
        # operator's flow (KlingTask.execute -> run_task) is wanted here.
        return KlingVideoOperator.execute(self, context)

    def run_task(self, context: Context) -> Any:
        """Call the function, then submit, wait and deliver what it describes (the operator's flow)."""
        context_merge(context, self.op_kwargs)
        self._returned = self.python_callable(
            *self.op_args, **determine_kwargs(self.python_callable, self.op_args, context)
        )
        return super().run_task(context)

    def generation_params(self) -> dict[str, Any]:
        """What the function returned, over the decorator's arguments."""
        params = params_from_returned(self._returned, self.model, self.named_values(), self.parameters or {})
        self.prompt = str(params.get("prompt"))  # shown in the rendered fields
        return params

    def ends_in_triggerer(self) -> str | None:
        """The summary the trigger ends the task with; ``None`` (resume on a worker) with a destination.

        Without a destination nothing is left after the wait: the trigger ends the task with the
        same summary :meth:`after_wait` returns. With one, the task resumes on a worker to download.
        """
        return None if self.destination else RETURN_SUMMARY

    def after_wait(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        """Download when a destination was given; return the small typed result."""
        output = task_summary(result)
        if self.destination:
            metadata = {"prompt": self.prompt, **(self.metadata or {})}
            output["destination"] = deliver_result(
                self, context, result, destination=self.destination, overwrite=self.overwrite, metadata=metadata
            )
        return output


def kling_video_task(python_callable: Callable | None = None, **kwargs: Any) -> TaskDecorator:
    """
    Turn a function returning a prompt (or generation parameters) into a Kling video task.

    An automatic retry never pays twice, however the function words its prompt on that try; a
    clear generates what it returns when that differs from what was made (see the module docstring).

    Registered as ``@task.kling_video``; also importable as
    ``airflow_provider_kling.decorators.kling_video.kling_video_task``.

    :param python_callable: the function to decorate.
    :param kwargs: defaults for the generation and the task: any :class:`KlingVideoOperator`
        argument (``model``, ``duration``, ``image``, ``destination``, ``timeout`` ...) and any
        ``BaseOperator`` argument; what the function returns overrides them.
    """
    return task_decorator_factory(
        python_callable=python_callable,
        decorated_operator_class=_KlingVideoDecoratedOperator,
        **kwargs,
    )


#: Short alias: ``from airflow_provider_kling.decorators.kling_video import kling_video``.
kling_video = kling_video_task
