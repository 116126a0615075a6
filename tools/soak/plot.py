"""The soak figure as a dependency-free SVG: RSS and fds per process, requests and errors per 10 s, p99.

Fault injections are drawn as vertical lines on every panel, so a step in memory or a burst of
errors can be matched to its cause at a glance.
"""
from xml.sax.saxutils import escape

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#17becf", "#000000"]
WIDTH, PANEL, LEFT, TOP = 900, 190, 70, 40


def write_svg(path, report):
    samples, series, faults = report["samples"], report["series"], report["faults"]
    duration = max([report["summary"]["duration_s"]] + [s["t"] for s in samples])
    names = [k for k in (samples[0] if samples else {}) if k != "t"]
    panels = [
        ("RSS (MiB)", [(name, [(s["t"], (s[name]["rss_kib"] or 0) / 1024) for s in samples]) for name in names]),
        ("open fds", [(name, [(s["t"], s[name]["fds"] or 0) for s in samples]) for name in names]),
        ("requests / 10 s", [("requests", [(p["t"], p["requests"]) for p in series]), ("errors", [(p["t"], p["errors"]) for p in series])]),
        ("p99 latency (ms) per 10 s", [("p99", [(p["t"], p["p99_ms"]) for p in series])]),
    ]
    height = TOP + len(panels) * (PANEL + 40) + 20 * (len(names) // 4 + 2)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>']
    summary = report["summary"]
    out.append(f'<text x="{LEFT}" y="20" font-size="13">Soak: {summary["requests"]} requests, {summary["errors"]} errors, '
               f'p99 {summary["p99_ms"]} ms, {summary["faults"]} faults (dashed lines)</text>')
    colour_of = {}
    for index, (title, lines) in enumerate(panels):
        y0 = TOP + index * (PANEL + 40)
        values = [v for _, points in lines for _, v in points] or [1]
        top = max(values) * 1.1 or 1
        x = lambda t: LEFT + (WIDTH - LEFT - 20) * t / duration  # noqa: E731
        y = lambda v: y0 + PANEL - PANEL * v / top  # noqa: E731
        out.append(f'<text x="{LEFT}" y="{y0 - 6}" font-weight="bold">{escape(title)}</text>')
        out.append(f'<rect x="{LEFT}" y="{y0}" width="{WIDTH - LEFT - 20}" height="{PANEL}" fill="none" stroke="#ccc"/>')
        for fraction in (0, 0.5, 1):
            value = top * fraction
            out.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.0f}</text>')
        for fault in faults:
            out.append(f'<line x1="{x(fault["t"]):.1f}" x2="{x(fault["t"]):.1f}" y1="{y0}" y2="{y0 + PANEL}" stroke="#999" stroke-dasharray="3,3"/>')
        for name, points in lines:
            colour = colour_of.setdefault(name, COLOURS[len(colour_of) % len(COLOURS)])
            polyline = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
            out.append(f'<polyline points="{polyline}" fill="none" stroke="{colour}" stroke-width="1.5"><title>{escape(name)}</title></polyline>')
        out.append(f'<text x="{WIDTH - 20}" y="{y0 + PANEL + 14}" text-anchor="end">{duration:.0f} s</text>')
    legend_y = TOP + len(panels) * (PANEL + 40)
    for i, (name, colour) in enumerate(colour_of.items()):
        lx, ly = LEFT + (i % 4) * 200, legend_y + (i // 4) * 18
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="3" fill="{colour}"/><text x="{lx + 18}" y="{ly - 5}">{escape(name)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
