"""The pair every benchmark leaves in results/ (NAME.json, the data; NAME.md, the report) and its table maths."""
import json
import os
import statistics
import time


def write_results(base, data, lines):
    """`base`.json (the data) and `base`.md (the report lines)."""
    os.makedirs(os.path.dirname(base), exist_ok=True)
    with open(base + ".json", "w") as out:
        json.dump(data, out, indent=2)
    with open(base + ".md", "w") as out:
        out.write("\n".join(lines) + "\n")


def publish_results(base, data, lines):
    """write_results(), then the report on standard output and where it went: how a benchmark ends."""
    write_results(base, data, lines)
    print("\n".join(lines))
    print(f"\nwrote {base}.json and .md")


def timestamp():
    """UTC, as results/ file names carry it: 20261206T050927Z."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def ratio(value, reference, digits=2):
    """value / reference rounded, or None when there is no reference."""
    if value is None or not reference:
        return None
    return round(value / reference, digits)


def median(values):
    """Median of the values that exist; None when none do."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def nearest_rank(values, fraction):
    """The value at `fraction` (0.5, 0.99, 1.0) of `values` by nearest rank, unrounded; None when there are none."""
    values = sorted(values)
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else None
