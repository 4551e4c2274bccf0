"""Benchmark detect_language on tests/data/language: accuracy, per-language figures, speed.

Run: .venv/bin/python benchmarks/bench_language.py   (part of `make bench`)
Accuracy counts ``und`` as wrong. The site lists Norwegian as one language, so Bokmål and
Nynorsk are scored as one class ``no`` (nb read as nn is right for the language; da read as nb
is wrong); how often the reported variant is right is shown on its own line. "Confident wrong"
is a wrong language (not ``und``) reported with confidence >= CONFIDENT. Speed is texts per
second of CPU time in this process (one core), so other load on the machine disturbs it less
than wall-clock time would; RSS is this process's peak resident memory with every model loaded.
"""

from __future__ import annotations

import csv
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from processors.language import SUPPORTED, UNDETERMINED, identify, warm_up  # noqa: E402

DATA = ROOT / "tests" / "data" / "language" / "sentences.tsv"
# Real sentences in languages the site does not offer: the right answer is always ``und``.
FOREIGN = ROOT / "tests" / "data" / "language" / "foreign.tsv"
SHORT = 60
SPEED_ROUNDS = 3
GOAL, GOAL_SHORT = 0.975, 0.96
CONFIDENT = 0.8
NORWEGIAN = frozenset({"nb", "nn"})


def language_of(code: str) -> str:
    """The language a code is scored as: Bokmål and Nynorsk are both Norwegian."""
    return "no" if code in NORWEGIAN else code


def main() -> None:
    with DATA.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    warm_up()

    detections = [identify(row["text"]) for row in rows]
    predictions = [d.language for d in detections]
    right = [
        language_of(p) == language_of(row["lang"]) for p, row in zip(predictions, rows, strict=True)
    ]

    def accuracy(indices: list[int]) -> str:
        if not indices:
            return "   n/a"
        return f"{100 * sum(right[i] for i in indices) / len(indices):6.2f}"

    def confident_wrong(indices: list[int]) -> float:
        bad = sum(
            not right[i]
            and predictions[i] != UNDETERMINED
            and detections[i].confidence >= CONFIDENT
            for i in indices
        )
        return 100 * bad / max(len(indices), 1)

    everything = list(range(len(rows)))
    print(f"language detection on {len(rows)} sentences ({DATA.relative_to(ROOT)})")
    print("Norwegian (nb, nn) scored as one language; und counts as wrong")
    print(
        f"{'subset':<28}{'n':>6}{'acc %':>8}{'<60 acc %':>11}{'und %':>8}"
        f"{'wrong %':>9}{'conf. wrong %':>15}"
    )
    for name, keep in (
        ("all", lambda r: True),
        ("held-out (test split)", lambda r: r["split"] == "test"),
        ("tuning (dev split)", lambda r: r["split"] == "dev"),
    ):
        idx = [i for i in everything if keep(rows[i])]
        short = [i for i in idx if len(rows[i]["text"]) < SHORT]
        und = sum(predictions[i] == UNDETERMINED for i in idx)
        wrong = len(idx) - und - sum(right[i] for i in idx)
        print(
            f"{name:<28}{len(idx):>6}{accuracy(idx):>8}{accuracy(short):>11}"
            f"{100 * und / max(len(idx), 1):8.2f}{100 * wrong / max(len(idx), 1):9.2f}"
            f"{confident_wrong(idx):15.2f}"
        )
        norwegian = [i for i in idx if rows[i]["lang"] in NORWEGIAN and right[i]]
        if norwegian:
            variant = sum(predictions[i] == rows[i]["lang"] for i in norwegian)
            print(
                f"{'  Norwegian variant right':<28}{len(norwegian):>6}"
                f"{100 * variant / len(norwegian):8.2f}   (nb/nn, of those read as Norwegian)"
            )

    # Per language on the held-out split only: thresholds were chosen on dev.
    print(f"\nheld-out split per language (goal: acc >= {GOAL:.1%}, <60 acc >= {GOAL_SHORT:.0%})")
    print(f"{'lang':<6}{'n':>5}{'acc %':>8}{'<60 n':>7}{'<60 acc %':>11}{'und %':>8}  errors")
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row["split"] == "test":
            by_lang[row["lang"]].append(i)
    missed = []
    for lang in SUPPORTED:
        idx = by_lang.get(lang, [])
        short = [i for i in idx if len(rows[i]["text"]) < SHORT]
        errors: dict[str, int] = defaultdict(int)
        for i in idx:
            if not right[i]:
                errors[predictions[i]] += 1
        note = " ".join(f"{k} x{v}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1]))
        if lang in NORWEGIAN:
            variant = sum(predictions[i] != lang for i in idx if right[i])
            note = f"{note} (variant {'nn' if lang == 'nb' else 'nb'} x{variant})".lstrip()
        und = sum(predictions[i] == UNDETERMINED for i in idx)
        hits = sum(right[i] for i in idx)
        short_hits = sum(right[i] for i in short)
        if idx and (hits / len(idx) < GOAL or (short and short_hits / len(short) < GOAL_SHORT)):
            missed.append(lang)
        print(
            f"{lang:<6}{len(idx):>5}{accuracy(idx):>8}{len(short):>7}{accuracy(short):>11}"
            f"{100 * und / max(len(idx), 1):8.2f}  {note}"
        )
    print(f"languages below a goal: {' '.join(missed) or 'none'}")

    with FOREIGN.open(encoding="utf-8", newline="") as fh:
        foreign = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    print(f"\nforeign languages ({FOREIGN.relative_to(ROOT)}): und is right, anything else wrong")
    print(f"{'lang':<6}{'split':<6}{'n':>5}{'und %':>8}{'conf. wrong %':>15}  read as")
    for lang in sorted({row["lang"] for row in foreign}):
        for split in ("dev", "test"):
            these = [row for row in foreign if row["lang"] == lang and row["split"] == split]
            answers = [identify(row["text"]) for row in these]
            read: dict[str, int] = defaultdict(int)
            for answer in answers:
                if answer.language != UNDETERMINED:
                    read[answer.language] += 1
            und = len(answers) - sum(read.values())
            sure = sum(a.language != UNDETERMINED and a.confidence >= CONFIDENT for a in answers)
            note = " ".join(f"{k} x{v}" for k, v in sorted(read.items(), key=lambda kv: -kv[1]))
            n = max(len(these), 1)
            print(
                f"{lang:<6}{split:<6}{len(these):>5}{100 * und / n:8.2f}{100 * sure / n:15.2f}"
                f"  {note}"
            )

    texts = [row["text"] for row in rows]
    best_cpu = best_wall = float("inf")
    for _ in range(SPEED_ROUNDS):
        cpu, wall = time.process_time(), time.perf_counter()
        for text in texts:
            identify(text)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    mean_len = sum(map(len, texts)) / len(texts)
    print(
        f"\nspeed (best of {SPEED_ROUNDS}, mean {mean_len:.0f} chars): "
        f"{len(texts) / best_cpu:,.0f} texts/s per core (CPU time), "
        f"{len(texts) / best_wall:,.0f} texts/s wall clock"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS with the models loaded: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
