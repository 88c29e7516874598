"""Example: Kling videos written purely in TaskFlow.

An upstream task turns data into prompts, ``@task.kling_video`` maps over them (one video each,
submitted once, awaited in the triggerer, downloaded), and a downstream task uses the results.
The decorated function returns the prompt -- or a dict of parameters to override the defaults
given to the decorator.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, tags=["kling", "example", "taskflow"])
def kling_taskflow():
    @task
    def products() -> list[dict]:
        return [
            {"sku": "mug-01", "name": "a speckled ceramic mug", "vertical": False},
            {"sku": "lamp-07", "name": "a brass desk lamp", "vertical": True},
            {"sku": "bag-12", "name": "a waxed canvas tote bag", "vertical": False},
        ]

    @task.kling_video(
        duration=5,
        negative_prompt="text, watermark, blurry",
        destination="{{ var.value.get('kling_output', '/tmp/kling-videos') }}/taskflow/",
        poll_interval=float(os.environ.get("KLING_POLL_INTERVAL", "10")),  # shorter against the simulator
        retries=2,
    )
    def product_clip(product: dict):
        prompt = f"A slow cinematic pan around {product['name']} on a sunlit wooden table"
        if product["vertical"]:
            return {"prompt": prompt, "aspect_ratio": "9:16"}  # per-item override of the defaults
        return prompt

    @task
    def catalog(results: list[dict]) -> None:
        from airflow_provider_kling.models.cost import amount_text, cost_usd, total_of

        # A cost the API reported as a bad number is "unknown": then so is the total, never a guess.
        spent = total_of(cost_usd(result.get("cost")) for result in results)
        for result in results:
            print(f"{result['id']}: {result['destination']}")
        print(f"{len(results)} videos, {amount_text(spent)} spent")

    catalog(product_clip.expand(product=products()))


kling_taskflow()
