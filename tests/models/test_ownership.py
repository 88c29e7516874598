"""What a delivery may do at a destination, from what is there (the pure decision)."""

from __future__ import annotations

import pytest

from airflow_provider_kling.models.ownership import (
    Action,
    DestinationFacts,
    FileFacts,
    decide,
    is_product_sidecar,
    ownership_record,
    recorded_sha256,
)

V, S, P = "/d/v.mp4", "/d/v.mp4.kling.json", "/d/v.mp4.poster.jpg"
NONE = FileFacts(V, exists=False)
OURS = FileFacts(V, exists=True, current=True)
OLD = FileFacts(V, exists=True, replaced=True)  # the video a delivery cut short was replacing
THEIRS = FileFacts(V, exists=True)
SIDE = FileFacts(S, exists=True, current=True)
NO_SIDE = FileFacts(S, exists=False)
POSTER = FileFacts(P, exists=True, current=True)
NO_POSTER = FileFacts(P, exists=False)


def facts(video, sidecar=SIDE, poster=POSTER, *, wanted=True, recorded=(P,)):
    return DestinationFacts(video, sidecar, (poster,), recorded, wanted, "generation g1")


@pytest.mark.parametrize(
    ("found", "overwrite", "action", "fragment"),
    [
        # Nothing there, or only the product's leftovers of a delivery cut short: deliver.
        (facts(NONE, NO_SIDE, NO_POSTER, wanted=False, recorded=()), False, Action.DELIVER, ""),
        (facts(NONE, wanted=False), False, Action.DELIVER, ""),
        # The wanted video, complete: keep it; a companion missing: deliver again to complete it.
        (facts(OURS), False, Action.KEEP, "already holds it"),
        (facts(OURS), True, Action.KEEP, "already holds it"),
        (facts(OURS, poster=NO_POSTER), False, Action.DELIVER, "completing the files beside it"),
        (facts(OURS, poster=NO_POSTER, recorded=()), False, Action.KEEP, ""),  # no poster was ever made
        (facts(OLD), False, Action.DELIVER, "cut short"),
        # Another video the product delivered: replaced only with overwrite.
        (facts(OURS, wanted=False), False, Action.REFUSE, "holds another video airflow-provider-kling delivered"),
        (facts(OURS, wanted=False), True, Action.DELIVER, "replacing"),
        # Files that are not the product's are never replaced, overwrite or not.
        (facts(THEIRS, NO_SIDE, NO_POSTER, wanted=False), True, Action.REFUSE, "/d/v.mp4 exists and"),
        (facts(THEIRS, wanted=True), True, Action.REFUSE, "its bytes are not those its sidecar"),
        (facts(NONE, NO_SIDE, FileFacts(P, exists=True), wanted=False), True, Action.REFUSE, P),
        (facts(OURS, poster=FileFacts(P, exists=True)), True, Action.REFUSE, P),
        (facts(NONE, FileFacts(S, exists=True), NO_POSTER, wanted=False), True, Action.REFUSE, "not a sidecar"),
        # Before anything is requested nothing is wanted yet: only files of others are refused.
        (facts(OURS, wanted=None), False, Action.DELIVER, ""),
        (facts(THEIRS, NO_SIDE, NO_POSTER, wanted=None), False, Action.REFUSE, "did not write it"),
    ],
)
def test_what_a_delivery_may_do_at_a_destination(found, overwrite, action, fragment):
    verdict = decide(found, overwrite=overwrite)
    assert verdict.action is action
    assert fragment in verdict.reason
    if action is Action.REFUSE and "another video" not in verdict.reason:
        assert "overwrite=True only replaces files airflow-provider-kling wrote" in verdict.reason


def test_a_sidecar_is_the_products_only_with_its_marker_and_its_videos_name():
    record = ownership_record("v.mp4", {"v.mp4": {"sha256": "a" * 64, "size": 3}}, {"v.mp4.poster.jpg": "b" * 64})
    assert is_product_sidecar({"generation_id": "g", **record}, "v.mp4")
    assert not is_product_sidecar({**record, "written_by": "someone"}, "v.mp4")
    assert not is_product_sidecar(record, "w.mp4")
    assert not is_product_sidecar({"generation_id": "g", "sha256": "a" * 64}, "v.mp4")  # an older sidecar, or yours
    assert not is_product_sidecar(["v.mp4"], "v.mp4")
    assert recorded_sha256(record, "v.mp4") == "a" * 64
    assert recorded_sha256(record, "v.mp4.poster.jpg") is None
    assert recorded_sha256(record, "v.mp4.poster.jpg", replaced=True) == "b" * 64
