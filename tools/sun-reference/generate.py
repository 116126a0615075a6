#!/usr/bin/env python3
"""Generate the high-precision sunrise/sunset/twilight reference table for the Cityscape sun service.

The table is committed as Tests/SunServiceTests/Resources/sun-reference.tsv and checked by
SolarCalculatorTests.swift. See README.md next to this file for the definitions, sources and how
to re-run. Everything here is offline: the JPL DE421 ephemeris ships inside the skyfield-data
wheel, and dates beyond DE421 (after 2053-10-08) use NREL's SPA as implemented by pvlib.

Event definitions (docs/contract section 6 and 7):
- the events of date D at longitude L belong to the solar day whose upper meridian transit lies in
  the UT window [D 00:00 - L/15 h, D 24:00 - L/15 h);
- solar_noon = that transit (topocentric apparent hour angle 0);
- *_begin / sunrise = upward crossing of the threshold between the preceding lower culmination
  (hour angle 12 h) and the transit; *_end / sunset = downward crossing between the transit and the
  following lower culmination;
- altitude = topocentric apparent altitude of the Sun's centre, observer on the WGS84 ellipsoid at
  height 0, no refraction model; thresholds -50' (-0.8333 deg), -6, -12, -18 deg;
- UTC is treated as UT1 (|UT1 - UTC| < 0.9 s by definition).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
import warnings

import numpy as np
from scipy.optimize import brentq, minimize_scalar

# MARK: - Inputs

# (label, latitude, longitude east-positive). Chosen to cover bands, not to pass: a fixed grid of
# places crossed with a fixed list of dates, no row removed afterwards.
LOCATIONS = [
    # equator and tropics
    ("Gulf of Guinea", 0.0, 0.0),
    ("Quito", -0.18, -78.47),
    ("Singapore", 1.35, 103.82),
    ("Jakarta", -6.2, 106.85),
    ("Manila", 14.6, 120.98),
    ("Mauna Kea", 19.82, -155.47),
    ("Aswan", 23.44, 32.9),
    ("Sao Paulo", -23.55, -46.63),
    ("Fiji east", -16.5, 179.9),
    # mid-latitudes
    ("Cairo", 30.04, 31.24),
    ("Sydney", -33.87, 151.21),
    ("Buenos Aires", -34.6, -58.38),
    ("Tokyo", 35.68, 139.69),
    ("Malaga", 36.72, -4.42),
    ("New York", 40.71, -74.01),
    ("Wellington", -41.29, 174.78),
    ("North Pacific", 45.0, -179.9),
    ("South Pacific", -45.0, 179.99),
    ("Seattle", 47.61, -122.33),
    ("Greenwich", 51.48, 0.0),
    ("Punta Arenas", -53.16, -70.91),
    # 55-60
    ("Ushuaia", -54.8, -68.3),
    ("Moscow", 55.75, 37.62),
    ("Sitka", 57.05, -135.33),
    ("Oslo", 59.91, 10.75),
    ("Cape Farewell", 60.0, -45.0),
    # 60-72
    ("Anchorage", 61.22, -149.9),
    ("Yakutsk", 62.03, 129.73),
    ("King George Island", -62.2, -58.96),
    ("Reykjavik", 64.15, -21.94),
    ("Oulu", 65.01, 25.47),
    ("Chukotka", 66.0, -179.9),
    ("Casey", -66.28, 110.53),
    ("Arctic Circle", 66.56, 0.0),
    ("Rothera", -67.57, -68.13),
    ("Inuvik", 68.36, -133.72),
    ("Tromso", 69.65, 18.96),
    ("Novolazarevskaya", -70.77, 11.83),
    ("Utqiagvik", 71.29, -156.79),
    # polar
    ("Dikson", 73.5, 80.5),
    ("Greenland ice", 75.0, -40.0),
    ("Concordia", -75.1, 123.35),
    ("McMurdo", -77.85, 166.67),
    ("Longyearbyen", 78.22, 15.65),
    ("West Antarctica", -80.0, -119.5),
    ("Alert", 82.5, -62.35),
    ("Arctic Ocean", 85.0, 179.9),
    ("Near South Pole", -89.0, 0.0),
    ("Near North Pole", 89.0, 45.0),
]

# Spread over 1900-2100: solstices, equinoxes, a leap day, and ordinary days. DE421 covers
# 1899-07-28..2053-10-08; later dates are computed with SPA.
DATES = [
    "1900-01-01", "1912-03-21", "1925-06-21", "1944-09-23", "1969-12-21", "1987-07-04", "2000-02-29",
    "2015-05-21", "2024-06-20", "2038-11-15", "2050-08-10", "2066-03-20", "2083-12-21", "2100-12-31",
]

# Deliberately hard rows on top of the grid: on each of these dates (near a solstice, so the declination barely
# moves) and for each threshold, the latitude is solved so that the Sun's altitude at a culmination lies just
# above or below the threshold by GRAZING_OFFSETS degrees -- at the lower culmination in the summer hemisphere
# (midnight sun / white nights edge) and at the upper culmination in the winter hemisphere (polar night edge).
# These are the near-tangent events where timing is most sensitive to the Sun's position.
GRAZING_DATES = [("1925-06-21", 20.0), ("2024-12-21", -100.0), ("2083-06-21", 140.0)]
GRAZING_OFFSETS = (-0.05, -0.02, 0.02, 0.05)

# (begin column, end column, threshold in degrees)
THRESHOLDS = [
    ("sunrise", "sunset", -50.0 / 60.0),
    ("civil_twilight_begin", "civil_twilight_end", -6.0),
    ("nautical_twilight_begin", "nautical_twilight_end", -12.0),
    ("astronomical_twilight_begin", "astronomical_twilight_end", -18.0),
]

COLUMNS = [
    "lat", "lng", "date", "solar_noon",
    "sunrise", "sunset",
    "civil_twilight_begin", "civil_twilight_end",
    "nautical_twilight_begin", "nautical_twilight_end",
    "astronomical_twilight_begin", "astronomical_twilight_end",
    "day_length", "source", "ambiguous", "place",
]

# An event whose threshold lies within this many degrees of the Sun's extreme altitude in its half
# day is "ambiguous": its presence hinges on sub-arcminute grazing, see README.md.
TANGENCY_MARGIN_DEG = 0.01

DE421_LAST_JD = 2471184.5 - 2.0  # stay clear of the kernel's last day
SAMPLES_PER_HALF = 361  # ~2 minutes apart; only used to bracket roots and extremes
XTOL_DAYS = 1e-8  # ~1 ms
UNIX_EPOCH_JD = 2440587.5


# MARK: - Ephemeris back ends

class SkyfieldSun:
    """Topocentric apparent Sun from JPL DE421 via skyfield (no refraction)."""

    name = "skyfield"

    def __init__(self) -> None:
        import skyfield_data
        from skyfield.api import Loader, wgs84

        with warnings.catch_warnings():
            # skyfield-data warns that its bundled IERS file is old; we pass builtin=True and use
            # skyfield's own Delta T tables, and never download anything.
            warnings.simplefilter("ignore")
            self._load = Loader(skyfield_data.get_skyfield_data_path(), verbose=False)
            self._ts = self._load.timescale(builtin=True)
            self._eph = self._load("de421.bsp")
        self._wgs84 = wgs84
        self._observer = None

    def set_observer(self, lat: float, lng: float) -> None:
        self._observer = self._eph["earth"] + self._wgs84.latlon(lat, lng, elevation_m=0.0)

    def covers(self, jd_first: float, jd_last: float) -> bool:
        return 2414864.5 + 2.0 <= jd_first and jd_last <= DE421_LAST_JD

    def _apparent(self, jd):
        t = self._ts.ut1_jd(np.atleast_1d(np.asarray(jd, dtype=float)))
        return self._observer.at(t).observe(self._eph["sun"]).apparent()

    def altitude(self, jd):
        alt, _, _ = self._apparent(jd).altaz()  # no temperature/pressure given: no refraction
        return alt.degrees

    def hour_angle(self, jd):
        ha, _, _ = self._apparent(jd).hadec()
        return ha.hours * 15.0


class SpaSun:
    """Topocentric Sun from NREL's SPA (Reda & Andreas 2004, +-0.0003 deg) as coded in pvlib.spa."""

    name = "spa"

    def __init__(self) -> None:
        from pvlib import spa

        self._spa = spa
        self._lat = 0.0
        self._lng = 0.0

    def set_observer(self, lat: float, lng: float) -> None:
        self._lat = lat
        self._lng = lng

    def covers(self, jd_first: float, jd_last: float) -> bool:
        return True

    def _state(self, jd):
        spa = self._spa
        jd = np.atleast_1d(np.asarray(jd, dtype=float))
        year = np.floor(2000.0 + (jd - 2451545.0) / 365.25)
        delta_t = spa.calculate_deltat(year, 6.0)
        jde = spa.julian_ephemeris_day(jd, delta_t)
        jc = spa.julian_century(jd)
        jce = spa.julian_ephemeris_century(jde)
        jme = spa.julian_ephemeris_millennium(jce)
        r = spa.heliocentric_radius_vector(jme)
        theta = spa.geocentric_longitude(spa.heliocentric_longitude(jme))
        beta = spa.geocentric_latitude(spa.heliocentric_latitude(jme))
        x0 = spa.mean_elongation(jce)
        x1 = spa.mean_anomaly_sun(jce)
        x2 = spa.mean_anomaly_moon(jce)
        x3 = spa.moon_argument_latitude(jce)
        x4 = spa.moon_ascending_longitude(jce)
        nut = np.empty((2, len(x0)))
        spa.longitude_obliquity_nutation(jce, x0, x1, x2, x3, x4, nut)
        epsilon = spa.true_ecliptic_obliquity(spa.mean_ecliptic_obliquity(jme), nut[1])
        lamd = spa.apparent_sun_longitude(theta, nut[0], spa.aberration_correction(r))
        v = spa.apparent_sidereal_time(spa.mean_sidereal_time(jd, jc), nut[0], epsilon)
        alpha = spa.geocentric_sun_right_ascension(lamd, epsilon, beta)
        delta = spa.geocentric_sun_declination(lamd, epsilon, beta)
        h = spa.local_hour_angle(v, self._lng, alpha)
        xi = spa.equatorial_horizontal_parallax(r)
        u = spa.uterm(self._lat)
        x = spa.xterm(u, self._lat, 0.0)
        y = spa.yterm(u, self._lat, 0.0)
        delta_alpha = spa.parallax_sun_right_ascension(x, xi, h, delta)
        delta_prime = spa.topocentric_sun_declination(delta, x, y, xi, delta_alpha, h)
        h_prime = spa.topocentric_local_hour_angle(h, delta_alpha)
        e0 = spa.topocentric_elevation_angle_without_atmosphere(self._lat, delta_prime, h_prime)
        return e0, h_prime

    def altitude(self, jd):
        return self._state(jd)[0]

    def hour_angle(self, jd):
        return self._state(jd)[1]


# MARK: - Event search

def wrap180(deg):
    return (np.asarray(deg) + 180.0) % 360.0 - 180.0


def find_culmination(sun, guess_jd: float, target_deg: float) -> float:
    """UT1 JD where the hour angle equals target_deg (0 upper, 180 lower), near guess (+-50 min)."""

    def f(jd: float) -> float:
        return float(wrap180(sun.hour_angle(jd)[0] - target_deg))

    span = 50.0 / 1440.0
    return brentq(f, guess_jd - span, guess_jd + span, xtol=XTOL_DAYS, rtol=1e-15, maxiter=200)


def analyse_half(sun, start: float, end: float, threshold: float, rising: bool):
    """Return (crossing JD or None, ambiguous flag, margin in degrees) for one threshold in one half day."""
    jd = np.linspace(start, end, SAMPLES_PER_HALF)
    alt = sun.altitude(jd)
    f = alt - threshold

    def g(x: float) -> float:
        return float(sun.altitude(x)[0] - threshold)

    crossings = []
    for i in range(len(jd) - 1):
        if f[i] == 0.0 or f[i] * f[i + 1] < 0.0:
            root = brentq(g, jd[i], jd[i + 1], xtol=XTOL_DAYS, rtol=1e-15, maxiter=200)
            crossings.append((root, f[i + 1] > f[i]))

    # True extremes of the altitude in this half (not just the endpoints): refine the best sample.
    def extreme(sign: float) -> float:
        i = int(np.argmin(sign * alt))
        lo, hi = jd[max(i - 1, 0)], jd[min(i + 1, len(jd) - 1)]
        res = minimize_scalar(lambda x: sign * sun.altitude(x)[0], bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-7})
        return min(sign * alt[i], float(res.fun)) * sign

    # Presence hinges on the extremes and, for an implementation that brackets the crossing between the two
    # culminations, on the altitudes there (they differ from the extremes only very near the poles).
    low, high = extreme(1.0), extreme(-1.0)
    margin = min(abs(x - threshold) for x in (low, high, alt[0], alt[-1]))
    wanted = [c for c, up in crossings if up == rising]
    unexpected = len(crossings) != len(wanted) or len(wanted) > 1
    ambiguous = margin < TANGENCY_MARGIN_DEG or unexpected
    if not wanted:
        return None, ambiguous, margin
    # With several crossings (only possible in ambiguous rows) report the one nearest the transit.
    return (wanted[-1] if rising else wanted[0]), ambiguous, margin


def solar_day(sun, lat: float, lng: float, date: dt.date):
    """Compute one reference row; returns dict of JDs/None plus day length and ambiguity list."""
    jd0 = (date - dt.date(1970, 1, 1)).days + UNIX_EPOCH_JD  # D 00:00 UT
    mean_noon = jd0 + 0.5 - lng / 360.0
    window = (jd0 - lng / 360.0, jd0 + 1.0 - lng / 360.0)
    transit = find_culmination(sun, mean_noon, 0.0)
    if not window[0] <= transit < window[1]:
        raise RuntimeError(f"transit outside window for {lat} {lng} {date}")
    lower_before = find_culmination(sun, transit - 0.5, 180.0)
    lower_after = find_culmination(sun, transit + 0.5, 180.0)

    row = {"solar_noon": transit}
    ambiguous = []
    margins = {}
    for begin, end, threshold in THRESHOLDS:
        row[begin], amb_b, margins[begin] = analyse_half(sun, lower_before, transit, threshold, rising=True)
        row[end], amb_e, margins[end] = analyse_half(sun, transit, lower_after, threshold, rising=False)
        if amb_b:
            ambiguous.append(begin)
        if amb_e:
            ambiguous.append(end)

    rise, set_ = row["sunrise"], row["sunset"]
    half = 0.5
    if rise is not None and set_ is not None:
        day = set_ - rise
    elif rise is None and set_ is None:
        day = 1.0 if sun.altitude(transit)[0] > THRESHOLDS[0][2] else 0.0
    elif rise is not None:
        day = transit + half - max(rise, transit - half)
    else:
        day = min(set_, transit + half) - (transit - half)
    row["day_length"] = day * 86400.0
    row["ambiguous"] = ambiguous
    row["margins"] = margins
    return row


def grazing_latitude(sun, date: dt.date, lng: float, hemisphere: float, kind: str, target: float):
    """Latitude (sign = hemisphere) where the Sun's altitude at the given culmination equals target degrees.

    At a culmination the altitude moves one-for-one with latitude (+1 at the lower culmination on the summer
    side, -1 at the upper culmination on the winter side), so a few fixed-point steps converge.
    """
    jd0 = (date - dt.date(1970, 1, 1)).days + UNIX_EPOCH_JD
    abs_lat = 66.0
    for _ in range(6):
        sun.set_observer(hemisphere * abs_lat, lng)
        transit = find_culmination(sun, jd0 + 0.5 - lng / 360.0, 0.0)
        when = find_culmination(sun, transit - 0.5, 180.0) if kind == "lower" else transit
        altitude = float(sun.altitude(when)[0])
        abs_lat += (target - altitude) * (1.0 if kind == "lower" else -1.0)
    abs_lat = round(abs_lat, 3)
    return hemisphere * abs_lat if 0.0 < abs_lat < 89.9 else None


def grazing_rows(sun):
    rows = []
    for date_text, lng in GRAZING_DATES:
        date = dt.date.fromisoformat(date_text)
        summer = 1.0 if date.month == 6 else -1.0
        for _, _, threshold in THRESHOLDS:
            for offset in GRAZING_OFFSETS:
                for kind, hemisphere in (("lower", summer), ("upper", -summer)):
                    lat = grazing_latitude(sun, date, lng, hemisphere, kind, threshold + offset)
                    if lat is not None:
                        label = f"grazing {kind} culmination {threshold:+.4g} {offset:+.2f}"
                        rows.append((label, lat, lng, date_text))
    return rows


def iso(jd, fractional: bool = False) -> str:
    if jd is None:
        return "-"
    seconds = (jd - UNIX_EPOCH_JD) * 86400.0
    if fractional:
        stamp = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=round(seconds, 3))
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=round(seconds))).strftime("%Y-%m-%dT%H:%M:%S")


EVENT_KEYS = ["solar_noon"] + [k for b, e, _ in THRESHOLDS for k in (b, e)]


# MARK: - Main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="Tests/SunServiceTests/Resources/sun-reference.tsv")
    parser.add_argument("--no-crosscheck", action="store_true", help="skip the SPA vs skyfield comparison")
    parser.add_argument("--fractional", metavar="PATH",
                        help="also write the table with millisecond times (for measuring errors below 1 s)")
    args = parser.parse_args()

    started = time.monotonic()
    skyfield_sun, spa_sun = SkyfieldSun(), SpaSun()
    lines = ["\t".join(COLUMNS)]
    fractional_lines = ["\t".join(COLUMNS)]
    margins = []  # (margin deg, lat, lng, date, event) of every non-ambiguous event
    worst = {}  # event -> (abs seconds, lat, lng, date) for SPA vs skyfield
    presence_mismatch = []
    counts = {"skyfield": 0, "spa": 0, "ambiguous_events": 0, "ambiguous_rows": 0}

    cases = [(place, lat, lng, date_text) for place, lat, lng in LOCATIONS for date_text in DATES]
    cases += grazing_rows(spa_sun)
    previous_place = None
    for place, lat, lng, date_text in cases:
        date = dt.date.fromisoformat(date_text)
        jd0 = (date - dt.date(1970, 1, 1)).days + UNIX_EPOCH_JD
        use_skyfield = skyfield_sun.covers(jd0 - 2.0, jd0 + 2.0)
        sun = skyfield_sun if use_skyfield else spa_sun
        sun.set_observer(lat, lng)
        row = solar_day(sun, lat, lng, date)
        counts[sun.name] += 1
        if row["ambiguous"]:
            counts["ambiguous_rows"] += 1
            counts["ambiguous_events"] += len(row["ambiguous"])
        margins += [(m, lat, lng, date_text, k) for k, m in row["margins"].items() if k not in row["ambiguous"]]

        if use_skyfield and not args.no_crosscheck:
            spa_sun.set_observer(lat, lng)
            other = solar_day(spa_sun, lat, lng, date)
            for key in EVENT_KEYS:
                a, b = row[key], other[key]
                if (a is None) != (b is None):
                    presence_mismatch.append((lat, lng, date_text, key, key in row["ambiguous"]))
                elif a is not None and key not in row["ambiguous"]:
                    diff = abs(a - b) * 86400.0
                    band = band_of(lat)
                    if diff > worst.get((band, key), (0.0,))[0]:
                        worst[(band, key)] = (diff, lat, lng, date_text)

        tail = [sun.name, ",".join(row["ambiguous"]) or "-", place]
        head = [f"{lat:g}", f"{lng:g}", date_text]
        lines.append("\t".join(head + [iso(row[k]) for k in EVENT_KEYS] + [str(round(row["day_length"]))] + tail))
        fractional_lines.append("\t".join(
            head + [iso(row[k], fractional=True) for k in EVENT_KEYS] + [f"{row['day_length']:.3f}"] + tail))
        if place != previous_place:
            print(f"{place:40s} started at {time.monotonic() - started:7.1f} s", file=sys.stderr)
            previous_place = place

    with open(args.output, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    if args.fractional:
        with open(args.fractional, "w", encoding="utf-8") as out:
            out.write("\n".join(fractional_lines) + "\n")

    elapsed = time.monotonic() - started
    print(f"rows: {len(lines) - 1} (skyfield {counts['skyfield']}, spa {counts['spa']}); "
          f"ambiguous events: {counts['ambiguous_events']} in {counts['ambiguous_rows']} rows; "
          f"elapsed {elapsed:.0f} s")
    margins.sort()
    print(f"non-ambiguous events with threshold within 0.1 deg of the Sun's extreme altitude: "
          f"{sum(1 for m in margins if m[0] < 0.1)}; closest: " + ", ".join(
              f"{m[0]:.4f} deg ({m[1]:g} {m[2]:g} {m[3]} {m[4]})" for m in margins[:3]))
    if not args.no_crosscheck:
        print("SPA vs skyfield on the DE421 rows (non-ambiguous events), max |difference| in seconds:")
        for band in BANDS:
            cells = [f"{k}={worst[(band, k)][0]:.2f}" for k in EVENT_KEYS if (band, k) in worst]
            print(f"  {band}: " + " ".join(cells))
        print(f"presence disagreements: {len(presence_mismatch)} "
              f"({sum(1 for m in presence_mismatch if m[4])} of them on ambiguous events)")
        for m in presence_mismatch:
            print("   ", m)
    return 0


BANDS = ["|lat|<=60", "60<|lat|<=72", "|lat|>72"]


def band_of(lat: float) -> str:
    a = abs(lat)
    return BANDS[0] if a <= 60 else BANDS[1] if a <= 72 else BANDS[2]


if __name__ == "__main__":
    sys.exit(main())
