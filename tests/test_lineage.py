"""Dataset names as OpenLineage's naming spec gives them, and what the ``kling`` facet may hold."""

from __future__ import annotations

import hashlib

import pytest

from airflow_provider_kling.lineage import dataset_name, media_read, prompt_fingerprint


@pytest.mark.parametrize(
    ("location", "named"),
    [
        ("s3://shop/products/mug.png", ("s3://shop", "products/mug.png")),
        ("s3://aws_default@shop/mug.png", ("s3://shop", "mug.png")),  # the connection id is not the bucket
        ("gs://media/ads/launch.mp4", ("gs://media", "ads/launch.mp4")),
        ("/tmp/kling-videos/fox.mp4", ("file", "/tmp/kling-videos/fox.mp4")),
        ("file:///tmp/kling-videos/fox.mp4", ("file", "/tmp/kling-videos/fox.mp4")),
        ("https://cdn.example.com/v/1.mp4?Expires=1&Signature=abc", ("https://cdn.example.com", "/v/1.mp4")),
        ("http://127.0.0.1:8000/videos/x.mp4", ("http://127.0.0.1:8000", "/videos/x.mp4")),
        ("relative/photo.png", None),
        ("data:image/png;base64,iVBORw0KGgo=", None),
        ("iVBORw0KGgo" * 300, None),  # inline base64 is no dataset
        ("", None),
    ],
)
def test_datasets_are_named_as_the_openlineage_spec_names_them(location, named):
    assert dataset_name(location) == named


def test_a_prompt_is_reported_by_length_and_hash_only():
    facts = prompt_fingerprint("a red fox in the snow")
    assert facts == {"prompt_length": 21, "prompt_sha256": hashlib.sha256(b"a red fox in the snow").hexdigest()}
    assert prompt_fingerprint(None) == {}


def test_media_read_lists_every_media_field_the_model_takes():
    params = {
        "model": "kling-video/v1.6/pro/image-to-video",
        "image_url": "s3://shop/mug.png",
        "tail_image_url": "https://example.com/end.png",
        "prompt": "a mug",
    }
    assert sorted(media_read(params)) == ["https://example.com/end.png", "s3://shop/mug.png"]
    assert media_read({"model": "kling-video/v1.6/pro/text-to-video", "prompt": "a fox"}) == []
