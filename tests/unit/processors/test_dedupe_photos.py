"""processors.dedupe photos: alike photos corroborate; the object's own picture is a re-share."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from ingest.photos import photo_hash
from processors.activity import ActivityLimits, SenderActivity
from processors.dedupe import DedupeIndex, dedupe
from processors.score import score
from schemas import Attachment, ScoredTip, Tip
from tests.photo_variants import DIFFERENT, VARIANTS, photo

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ORIGINAL = photo()
PICTURE = photo_hash(ORIGINAL)


def attachment(variant: str | None = None, different: str | None = None) -> Attachment:
    img = ORIGINAL
    if variant:
        img = VARIANTS[variant](ORIGINAL)
    if different:
        img = DIFFERENT[different](ORIGINAL)
    phash = photo_hash(img)
    return Attachment(
        sha256=hashlib.sha256(f"{variant}{different}".encode()).hexdigest(),
        media_type="image/jpeg",
        size=1000,
        width=img.width,
        height=img.height,
        phash=phash,
    )


def tip(n: int, body: str, *photos: Attachment, sender: str | None = None) -> Tip:
    return Tip(
        tip_id=f"t{n}",
        channel="web",
        received_at=T0 + timedelta(seconds=n),
        object_ref="7",
        body=body,
        sender_key=sender if sender is not None else f"s{n}",
        attachments=photos,
    )


def photo_count(out: ScoredTip) -> int:
    counts = [c.senders for c in out.corroboration if c.kind == "photo"]
    assert len(counts) <= 1
    return counts[0] if counts else 0


def test_near_identical_photos_from_different_tipsters_corroborate() -> None:
    index = DedupeIndex()
    texts = ("I took this at the market", "saw it in a shop window", "my neighbour has it")
    outs = [
        dedupe(tip(n, text, attachment(variant)), index)
        for n, (text, variant) in enumerate(zip(texts, sorted(VARIANTS), strict=False))
    ]
    assert [photo_count(o) for o in outs] == [1, 2, 3]
    # All three are counted under one picture, named by its first copy.
    assert len({c.value for o in outs for c in o.corroboration}) == 1
    assert not any(o.reshared_pictures for o in outs)
    reasons = score(outs[-1], SenderActivity(ActivityLimits())).reasons
    assert any(r.feature == "agree" and "near-identical photos" in r.text for r in reasons)


def test_different_pictures_do_not_corroborate() -> None:
    index = DedupeIndex()
    outs = [dedupe(tip(0, "a photo", attachment()), index)]
    outs += [
        dedupe(tip(n, f"another photo {n}", attachment(different=name)), index)
        for n, name in enumerate(sorted(DIFFERENT), start=1)
    ]
    assert [photo_count(o) for o in outs] == [1] * len(outs)


def test_one_tipster_sending_a_photo_twice_counts_once() -> None:
    index = DedupeIndex()
    a = dedupe(tip(0, "here", attachment(), sender="k"), index)
    b = dedupe(tip(1, "here again", attachment("half size"), sender="k"), index)
    assert (photo_count(a), photo_count(b)) == (1, 1)


def test_the_objects_own_picture_is_marked_and_not_counted() -> None:
    index = DedupeIndex()
    index.restore([], pictures={"7": PICTURE})
    assert index.holds("7")
    shared = attachment("jpeg quality 30")
    outs = [dedupe(tip(n, f"is this it {n}", shared), index) for n in range(3)]
    assert all(o.reshared_pictures == (shared.sha256,) for o in outs)
    assert all(photo_count(o) == 0 for o in outs)
    reasons = score(outs[-1], SenderActivity(ActivityLimits())).reasons
    marks = [r for r in reasons if r.feature == "reshared_picture"]
    assert len(marks) == 1 and marks[0].weight == 0
    # A new photo in the same tip still counts.
    mixed = dedupe(
        tip(9, "and my own photo", shared, attachment(different="another picture")), index
    )
    assert mixed.reshared_pictures == (shared.sha256,) and photo_count(mixed) == 1


def test_without_a_known_picture_nothing_is_marked() -> None:
    out = dedupe(tip(0, "is this it", attachment()), DedupeIndex())
    assert out.reshared_pictures == () and photo_count(out) == 1


def test_restore_rebuilds_photo_counts_and_the_picture() -> None:
    live = DedupeIndex()
    live.restore([], pictures={"7": PICTURE})
    stored = [
        dedupe(tip(0, "found it", attachment("half size"), attachment(different="mirrored")), live),
        dedupe(tip(1, "me too", attachment(different="mirrored")), live),
    ]
    fresh = DedupeIndex()
    fresh.restore(stored, pictures={"7": PICTURE})
    probe = tip(2, "also this one", attachment(different="mirrored"), attachment("greyscale"))
    a, b = dedupe(probe, live), dedupe(probe.model_copy(update={"tip_id": "t3"}), fresh)
    assert a.corroboration == b.corroboration and photo_count(a) == 3
    assert a.reshared_pictures == b.reshared_pictures == (probe.attachments[1].sha256,)


def test_photo_state_is_bounded() -> None:
    index = DedupeIndex(max_photos=2)
    for n, name in enumerate(sorted(DIFFERENT)):
        dedupe(tip(n, f"photo {n}", attachment(different=name)), index)
    assert index.stats()["photos"] == 2
