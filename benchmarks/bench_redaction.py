"""Redaction figures on the labelled set: per-kind recall and precision, evidence kept, speed.

Run ``python benchmarks/bench_redaction.py`` (``make bench`` runs it). Recall: a labelled span
counts as caught when its text no longer occurs in the output. Precision: per case and kind, the
placeholders emitted beyond the labelled spans caught are false positives. Evidence: a "keep"
string must still occur verbatim in the output.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processors.redact import redact_text  # noqa: E402

CASES = ROOT / "tests" / "data" / "redaction" / "cases.jsonl"
# Real sentences in all 34 languages with and without contact data (build_real.py, issue #12).
REAL_CASES = ROOT / "tests" / "data" / "redaction" / "real_cases.jsonl"
KINDS = ("EMAIL", "PHONE", "IBAN", "IP", "CARD", "HANDLE", "PERSON", "ADDRESS", "URL_TOKEN")
GOALS = {"EMAIL": 0.97, "PHONE": 0.97, "IBAN": 0.97, "IP": 0.97, "CARD": 0.97, "PERSON": 0.85}
TIP_300 = (
    "Hallo, ich heiße Anna Schmidt. Die Tasche auf dem Foto (Objekt 123) habe ich 2019 bei "
    "Rossmann in Graz gesehen, Preis 12,99 €. Gleiche Tasche: https://www.zalando.at/p/abc-123"
    "?utm_source=mail . Ruf mich an: 0664 1234567 oder anna.schmidt@gmx.at\nViele Grüße\nAnna"
)

# A typical tip with nothing to redact (most tips): the cost every tip pays.
TIP_CLEAN = (
    "Die Tasche auf dem Foto habe ich 2019 bei Rossmann in Graz gesehen, die gab es dort in "
    "Rot und Blau. Preis war 12,99 €, die Marke war Eastpak, Modell Padded Pak'r. Eine Freundin "
    "hat die gleiche bei dm in Linz gekauft, ebenfalls 2019. Ich glaube, sie war aus der "
    "Sommerkollektion und nur ein paar Wochen im Regal."
)


def load(path: Path = CASES) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def evaluate(
    cases: list[dict[str, Any]], verbose: bool = False, with_language: bool = False
) -> dict[str, Any]:
    """Figures over ``cases``; ``with_language`` passes each case's language to the redactor,
    as the flow does once detect_language runs before redact."""
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    emitted: Counter[str] = Counter()
    true_pos: Counter[str] = Counter()
    keep_total = keep_ok = 0
    failures: list[str] = []
    for case in cases:
        counts: Counter[Any] = Counter()
        out = redact_text(case["text"], counts, case["lang"] if with_language else "und")
        case_caught: Counter[str] = Counter()
        for span in case["pii"]:
            total[span["kind"]] += 1
            if span["text"] not in out:
                caught[span["kind"]] += 1
                case_caught[span["kind"]] += 1
            elif verbose:
                failures.append(f"MISS {span['kind']:9} {case['id']}: {span['text']!r} in {out!r}")
        for kind, n in counts.items():
            emitted[kind] += n
            true_pos[kind] += min(n, case_caught[kind])
            if verbose and n > case_caught[kind]:
                failures.append(f"FP   {kind:9} {case['id']}: {out!r}")
        for keep in case["keep"]:
            keep_total += 1
            if keep in out:
                keep_ok += 1
            elif verbose:
                failures.append(f"LOST evidence {case['id']}: {keep!r} in {out!r}")
    return {
        "total": total,
        "caught": caught,
        "emitted": emitted,
        "true_pos": true_pos,
        "keep": (keep_ok, keep_total),
        "failures": failures,
    }


def _per_call(text: str, n: int = 200) -> float:
    # Vary the text by one trailing space so no per-text cache can answer from memory.
    variants = [text + " " * (i % 7) for i in range(n)]
    start = time.perf_counter()
    for t in variants:
        redact_text(t, Counter())
    return (time.perf_counter() - start) / n * 1e6


def speed(texts: list[str], repeat: int = 5) -> tuple[float, float, float, float]:
    """Best-of-``repeat`` µs: per 300 characters over the set, for ``TIP_300``, for
    ``TIP_CLEAN``, and a calibration figure (one ``\\w+`` scan of 300 characters) that tells
    how fast this machine is at regular expressions."""
    chars = sum(len(t) for t in texts)
    best_set = best_tip = best_clean = best_cal = float("inf")
    calibration = re.compile(r"\w+")
    for _ in range(repeat):
        start = time.perf_counter()
        for t in texts:
            redact_text(t + " ", Counter())
        best_set = min(best_set, (time.perf_counter() - start) / chars * 300 * 1e6)
        best_tip = min(best_tip, _per_call(TIP_300))
        best_clean = min(best_clean, _per_call(TIP_CLEAN))
        start = time.perf_counter()
        for _ in range(200):
            calibration.findall(TIP_CLEAN[:300])
        best_cal = min(best_cal, (time.perf_counter() - start) / 200 * 1e6)
    return best_set, best_tip, best_clean, best_cal


def main() -> None:
    cases = load()
    verbose = "-v" in sys.argv
    langs = sorted({c["lang"] for c in cases})
    print(f"redaction set: {len(cases)} cases, {len(langs)} languages ({' '.join(langs)})")
    for split in ("dev", "heldout", "all"):
        subset = [c for c in cases if split == "all" or c["split"] == split]
        r = evaluate(subset, verbose=verbose and split == "all")
        print(f"\n[{split}] {len(subset)} cases")
        print(
            f"  {'kind':10} {'spans':>5} {'recall':>7} {'emitted':>7} {'precision':>9} {'goal':>6}"
        )
        for kind in KINDS:
            n, c, e, tp = (
                r["total"][kind],
                r["caught"][kind],
                r["emitted"][kind],
                r["true_pos"][kind],
            )
            recall = f"{c / n:.3f}" if n else "-"
            precision = f"{tp / e:.3f}" if e else "-"
            goal = f"≥{GOALS[kind]:.2f}" if kind in GOALS else ""
            print(f"  {kind:10} {n:5d} {recall:>7} {e:7d} {precision:>9} {goal:>6}")
        ok, n = r["keep"]
        print(f"  evidence kept: {ok}/{n} = {ok / n:.3f} (goal ≥0.95)")
        n_all, c_all = sum(r["total"].values()), sum(r["caught"].values())
        e_all, tp_all = sum(r["emitted"].values()), sum(r["true_pos"].values())
        print(f"  all kinds: recall {c_all / n_all:.3f}, precision {tp_all / e_all:.3f}")
        for line in r["failures"]:
            print("   ", line)
    per_set, per_tip, per_clean, cal = speed([c["text"] for c in cases])
    print("\nspeed (best of 5, one core, µs per call):")
    print(f"  labelled set (PII-dense), per 300 chars   {per_set:7.0f}")
    print(f"  {len(TIP_300)}-char tip: name, phone, e-mail, URL, sig {per_tip:7.0f}")
    print(f"  {len(TIP_CLEAN)}-char tip with nothing to redact      {per_clean:7.0f}")
    print(f"  calibration: re.findall(r'\\w+') on 300 chars {cal:7.1f}")
    real_sentences()


def real_sentences() -> None:
    """The real-sentence set, held-out split, with the tip's language known: per kind and, for
    self-identification, per language."""
    cases = [c for c in load(REAL_CASES) if c["split"] == "heldout"]
    langs = sorted({c["lang"] for c in cases})
    print(f"\nreal sentences, held-out: {len(cases)} cases in {len(langs)} languages")
    r = evaluate(cases, verbose=True, with_language=True)
    for kind in ("PERSON", "PHONE", "CARD"):
        n, c = r["total"][kind], r["caught"][kind]
        e, tp = r["emitted"][kind], r["true_pos"][kind]
        print(f"  {kind:10} recall {c}/{n} = {c / n:.3f}  precision {tp}/{e}  goal ≥{GOALS[kind]}")
    ok, n = r["keep"]
    print(f"  real sentence kept unchanged: {ok}/{n} = {ok / n:.3f} (goal ≥0.95)")
    weak = []
    for lang in langs:
        sub = evaluate([c for c in cases if c["lang"] == lang], with_language=True)
        n, c = sub["total"]["PERSON"], sub["caught"]["PERSON"]
        if n and c / n < GOALS["PERSON"]:
            weak.append(f"{lang} {c}/{n}")
    print(f"  languages below the self-identification goal: {', '.join(weak) or 'none'}")
    for line in r["failures"]:
        print("   ", line)


if __name__ == "__main__":
    main()
