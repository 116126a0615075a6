"""Adds a time-zone column to Data/postal/postal_codes.tsv.gz (dev tooling, never on the serving path).

Each postal code's averaged coordinate is looked up in the timezone-boundary-builder polygons shipped by the
pinned `timezonefinder-data` wheel. A point that lands at sea (an `Etc/GMT±N` ocean zone) or in a zone that
does not belong to the code's country (the zone's country per IANA `zone.tab`, from the pinned `tzdata` wheel)
is moved to the nearest zone within its country: the zone of the nearest code of the same country whose own
point landed in one of the country's zones (great-circle distance), or, when the country has no such code, the
zone whose `zone.tab` principal location is nearest. Only a country that `zone.tab` does not list keeps the
zone its point landed in.

Output (both files rewritten, byte-reproducible: rows in input order, gzip mtime 0):
- `postal_codes.tsv.gz` gains a seventh column `timezone_id`, an index into
- `timezones.tsv` (`timezone_id<TAB>timezone`, ids 0..N-1 in name order).
A summary (counts per reason and country) goes to stdout as JSON; ATTRIBUTION.md quotes it.

Usage (from the repository root): python -m tools.timezones.assign_timezones DATA_DIR   (run by `make postal-timezones`)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import math
import sys
from collections import Counter, defaultdict
from importlib import metadata, resources
from pathlib import Path

import numpy as np
from timezonefinder import TimezoneFinder

EARTH_RADIUS_KM = 6371.0
# A point this far inside another country is where the code really is (US military APO/FPO codes at bases
# abroad, MA codes in Western Sahara); border and averaging errors stay well below it.
ABROAD_KM = 150.0
# A point this far out at sea is an island with no zone of its own (FR 98799 Clipperton) or the North Pole.
FAR_AT_SEA_KM = 1000.0
HEADER = ["country_code", "postal_code", "place_name", "admin1", "latitude", "longitude"]
ZONES_HEADER = "timezone_id\ttimezone\n"


def read_zone_tab() -> tuple[dict[str, str], dict[str, list[tuple[str, float, float]]]]:
    """zone.tab as zone -> country and country -> [(zone, lat, lng)], the zone's principal location."""
    text = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    country_of: dict[str, str] = {}
    zones_of: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        country, coordinates, zone = line.split("\t")[:3]
        lat, lng = parse_iso6709(coordinates)
        country_of[zone] = country
        zones_of[country].append((zone, lat, lng))
    return country_of, zones_of


def parse_iso6709(text: str) -> tuple[float, float]:
    """zone.tab's `+DDMM[SS]+DDDMM[SS]` as decimal degrees."""
    split = max(text.rfind("+"), text.rfind("-"))
    return sexagesimal(text[:split], 2), sexagesimal(text[split:], 3)


def sexagesimal(text: str, degree_digits: int) -> float:
    sign = -1.0 if text[0] == "-" else 1.0
    digits = text[1:]
    degrees = int(digits[:degree_digits])
    minutes = int(digits[degree_digits : degree_digits + 2])
    seconds = int(digits[degree_digits + 2 :] or 0)
    return sign * (degrees + minutes / 60 + seconds / 3600)


def haversine(lat: np.ndarray, lng: np.ndarray, lat0: float, lng0: float) -> np.ndarray:
    """Central angle (radians) from one point to many; the order is all that matters here."""
    phi, phi0 = np.radians(lat), math.radians(lat0)
    dphi, dlam = phi - phi0, np.radians(lng - lng0)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi) * math.cos(phi0) * np.sin(dlam / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="Data/postal")
    args = parser.parse_args()
    table_path = args.data_dir / "postal_codes.tsv.gz"

    with gzip.open(table_path, "rt", encoding="utf-8", newline="") as source:
        lines = source.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = lines[0].split("\t")
    if header[: len(HEADER)] != HEADER:
        sys.exit(f"{table_path}: unexpected header {header}")
    # A rerun replaces the column it wrote before.
    rows = [line.split("\t")[: len(HEADER)] for line in lines[1:]]

    finder = TimezoneFinder()
    country_of, zones_of = read_zone_tab()

    landed: dict[tuple[str, str], str] = {}
    for row in rows:
        key = (row[4], row[5])
        if key not in landed:
            landed[key] = finder.timezone_at(lat=float(row[4]), lng=float(row[5])) or "Etc/Unknown"

    zone = [landed[(row[4], row[5])] for row in rows]
    reason = ["" for _ in rows]
    by_country: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_country[row[0]].append(index)

    for country, indices in by_country.items():
        allowed = {name for name, _, _ in zones_of.get(country, [])}
        if not allowed:
            for index in indices:
                reason[index] = "country not in zone.tab (kept)"
            continue
        misfits = [i for i in indices if zone[i] not in allowed]
        if not misfits:
            continue
        good = [i for i in indices if zone[i] in allowed]
        good_lat = np.array([float(rows[i][4]) for i in good])
        good_lng = np.array([float(rows[i][5]) for i in good])
        for index in misfits:
            landed_zone = zone[index]
            cause = "at sea" if landed_zone.startswith("Etc/") else "zone of another country"
            lat, lng = float(rows[index][4]), float(rows[index][5])
            if good:
                angles = haversine(good_lat, good_lng, lat, lng)
                nearest = int(np.argmin(angles))
                distance_km = float(angles[nearest]) * EARTH_RADIUS_KM
                if distance_km > (FAR_AT_SEA_KM if cause == "at sea" else ABROAD_KM):
                    reason[index] = f"{cause}, far from home: landed zone kept"
                    continue
                zone[index] = zone[good[nearest]]
                reason[index] = f"{cause}: nearest in-country code"
            else:
                candidates = zones_of[country]
                distances = haversine(
                    np.array([c[1] for c in candidates]), np.array([c[2] for c in candidates]), lat, lng
                )
                zone[index] = candidates[int(np.argmin(distances))][0]
                reason[index] = f"{cause}: nearest zone.tab location"

    names = sorted(set(zone))
    zone_id = {name: number for number, name in enumerate(names)}

    out = io.StringIO(newline="")
    out.write("\t".join(HEADER + ["timezone_id"]) + "\n")
    for row, name in zip(rows, zone):
        out.write("\t".join(row + [str(zone_id[name])]) + "\n")
    tsv = out.getvalue().encode("utf-8")
    with open(table_path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(tsv)
    zones_text = ZONES_HEADER + "".join(f"{zone_id[name]}\t{name}\n" for name in names)
    (args.data_dir / "timezones.tsv").write_text(zones_text, encoding="utf-8", newline="")

    moved = Counter(r for r in reason if r)
    moved_by_country = Counter((rows[i][0], reason[i]) for i in range(len(rows)) if reason[i])
    summary = {
        "timezonefinder": metadata.version("timezonefinder"),
        "timezonefinder-data": metadata.version("timezonefinder-data"),
        "tzdata": metadata.version("tzdata"),
        "rows": len(rows),
        "zones": len(names),
        "reasons": dict(sorted(moved.items())),
        "moved_total": sum(n for r, n in moved.items() if "kept" not in r),
        "by_country": {f"{c} {r}": n for (c, r), n in sorted(moved_by_country.items())},
        "tsv_bytes": len(tsv),
        "tsv_sha256": hashlib.sha256(tsv).hexdigest(),
        "gz_bytes": table_path.stat().st_size,
        "gz_sha256": hashlib.sha256(table_path.read_bytes()).hexdigest(),
    }
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
