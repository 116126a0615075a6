"""The one SVG writer of the tooling (no plotting library): the shared frame, grouped bars, time-series lines.

Bar charts (`render`/`write`) draw panels of grouped bars over shared categories. A panel is a dict:
  title   text above the panel
  series  [(name, [value per category], colour)]; None values draw no bar
  line    optional (value, label): a dashed horizontal line, e.g. the c/L limit
  cap     optional: bars above it are drawn cut at the cap (zig-zag top) with their real value
  unit    optional text after the value labels
  categories  optional: this panel's own x labels (default: the chart's)

Line charts (`write_lines`) draw panels of time series sharing one time axis, with dashed vertical
markers (e.g. fault injections) on every panel. Charts drawn point by point for one report (the lab
report's sweeps and timelines) start from `frame` and use `escape`, `PALETTE` and `number` from here.
"""
from xml.sax.saxutils import escape

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948"]
WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP = 760, 220, 70, 20, 40


def frame(width, height, font_size=12, role=None):
    """The opening of every chart: the <svg> element (pixel size = viewBox) and its white background."""
    role_attribute = f' role="{role}"' if role else ""
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'font-family="sans-serif" font-size="{font_size}"{role_attribute}>',
            f'<rect width="{width}" height="{height}" fill="white"/>']


def number(value):
    """A value label: 1,234 / 12.3 / 0.12, or – when missing."""
    if value is None:
        return "–"
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 1 else f"{value:.1f}"


def tick_label(value):
    """Axis label: 0, 12.5, 25, 1,000, 0.625 (no trailing zeros)."""
    return f"{value:,.10g}"


def nice_max(value):
    """Smallest 1/2/2.5/5 × 10^k not below value (axis top)."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def render(title, categories, panels, note=None):
    """Grouped bar panels over shared categories (see the module doc), as an SVG document."""
    height = TOP + len(panels) * (PANEL_HEIGHT + 60) + (30 if note else 0)
    out = frame(WIDTH, height) + [
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{escape(title)}</text>']
    plot_width = WIDTH - LEFT - RIGHT
    chart_categories = categories
    for index, panel in enumerate(panels):
        categories = panel.get("categories", chart_categories)
        slot = plot_width / max(1, len(categories))
        top = TOP + index * (PANEL_HEIGHT + 60) + 20
        bottom = top + PANEL_HEIGHT - 40
        series = panel["series"]
        values = [v for _, vs, _ in series for v in vs if v is not None]
        line = panel.get("line")
        cap = panel.get("cap")
        shown = [min(v, cap) if cap else v for v in values] + ([line[0]] if line else [])
        top_value = nice_max(max(shown, default=1) * 1.1)
        scale = (bottom - top) / top_value
        unit = panel.get("unit", "")
        out.append(f'<text x="{LEFT}" y="{top - 6}" font-weight="bold">{escape(panel["title"])}</text>')
        for tick in range(5):  # y axis with 4 gridlines
            value = top_value * tick / 4
            y = bottom - value * scale
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{tick_label(value)}</text>')
        bar_width = slot * 0.8 / max(1, len(series))
        for s_index, (name, series_values, colour) in enumerate(series):
            for c_index, value in enumerate(series_values):
                if value is None:
                    continue
                x = LEFT + c_index * slot + slot * 0.1 + s_index * bar_width
                clipped = cap is not None and value > cap
                y = bottom - (cap if clipped else value) * scale
                out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width - 2:.1f}" height="{bottom - y:.1f}" '
                           f'fill="{colour}"><title>{escape(name)}: {number(value)}{escape(unit)}</title></rect>')
                if clipped:  # a white zig-zag near the top says "this bar is cut"
                    zig = " ".join(f"{x + k * (bar_width - 2) / 4:.1f},{y + 8 + (4 if k % 2 else 0):.1f}" for k in range(5))
                    out.append(f'<polyline points="{zig}" fill="none" stroke="white" stroke-width="2"/>')
                out.append(f'<text x="{x + (bar_width - 2) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11">'
                           f'{number(value)}</text>')
        if line:
            y = bottom - line[0] * scale
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c00" '
                       'stroke-dasharray="6,4" stroke-width="1.5"/>')
            out.append(f'<text x="{LEFT + 4}" y="{y - 5:.1f}" fill="#c00">{escape(line[1])}</text>')
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" stroke="#333"/>')
        lines_per_label = 1
        for c_index, category in enumerate(categories):
            x = LEFT + c_index * slot + slot / 2
            lines = label_lines(category, slot)
            lines_per_label = max(lines_per_label, len(lines))
            text = escape(category) if len(lines) == 1 else "".join(
                f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 13}">{escape(line)}</tspan>' for i, line in enumerate(lines))
            out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{text}</text>')
        if len(series) > 1:  # legend
            x, y = LEFT, bottom + 26 + 13 * (lines_per_label - 1)
            for name, _, colour in series:
                if x + 14 + 7 * len(name) > WIDTH - RIGHT:  # wrap the legend
                    x, y = LEFT, y + 16
                out.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{colour}"/>')
                out.append(f'<text x="{x + 14}" y="{y + 9}">{escape(name)}</text>')
                x += 24 + 7 * len(name)
    if note:
        out.append(f'<text x="{LEFT}" y="{height - 12}" fill="#555" font-size="11">{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def label_lines(category, slot):
    """A category label as one line, or two split at the space nearest its middle when it is wider than its slot
    (about 6.5 px a character), so neighbouring labels do not run into each other."""
    if len(category) * 6.5 <= slot - 6 or " " not in category:
        return [category]
    middle = len(category) / 2
    cut = min((i for i, ch in enumerate(category) if ch == " "), key=lambda i: abs(i - middle))
    return [category[:cut], category[cut + 1:]]


def write(path, title, categories, panels, note=None):
    """render() into a file; returns the path."""
    with open(path, "w") as svg:
        svg.write(render(title, categories, panels, note))
    return path


# MARK: time-series lines

LINE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#17becf",
                "#000000"]
LINE_WIDTH, LINE_PANEL, LINE_LEFT, LINE_TOP = 900, 190, 70, 40


def write_lines(path, title, panels, duration, markers=()):
    """Panels of time series over 0…`duration` s, as an SVG file.

    panels: [(panel title, [(series name, [(t, value)])])]; a series keeps one colour on every panel.
    markers: times drawn as dashed vertical lines on every panel.
    """
    names = {name for _, lines in panels for name, _ in lines}
    height = LINE_TOP + len(panels) * (LINE_PANEL + 40) + 20 * (len(names) // 4 + 2)
    out = frame(LINE_WIDTH, height, font_size=11)
    out.append(f'<text x="{LINE_LEFT}" y="20" font-size="13">{escape(title)}</text>')
    colour_of = {}
    for index, (panel_title, lines) in enumerate(panels):
        y0 = LINE_TOP + index * (LINE_PANEL + 40)
        values = [v for _, points in lines for _, v in points] or [1]
        top = max(values) * 1.1 or 1
        x = lambda t: LINE_LEFT + (LINE_WIDTH - LINE_LEFT - 20) * t / duration  # noqa: E731
        y = lambda v: y0 + LINE_PANEL - LINE_PANEL * v / top  # noqa: E731
        out.append(f'<text x="{LINE_LEFT}" y="{y0 - 6}" font-weight="bold">{escape(panel_title)}</text>')
        out.append(f'<rect x="{LINE_LEFT}" y="{y0}" width="{LINE_WIDTH - LINE_LEFT - 20}" height="{LINE_PANEL}" fill="none" stroke="#ccc"/>')
        for fraction in (0, 0.5, 1):
            value = top * fraction
            out.append(f'<text x="{LINE_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.0f}</text>')
        for t in markers:
            out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y0}" y2="{y0 + LINE_PANEL}" stroke="#999" stroke-dasharray="3,3"/>')
        for name, points in lines:
            colour = colour_of.setdefault(name, LINE_COLOURS[len(colour_of) % len(LINE_COLOURS)])
            polyline = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
            out.append(f'<polyline points="{polyline}" fill="none" stroke="{colour}" stroke-width="1.5"><title>{escape(name)}</title></polyline>')
        out.append(f'<text x="{LINE_WIDTH - 20}" y="{y0 + LINE_PANEL + 14}" text-anchor="end">{duration:.0f} s</text>')
    legend_y = LINE_TOP + len(panels) * (LINE_PANEL + 40)
    for i, (name, colour) in enumerate(colour_of.items()):
        lx, ly = LINE_LEFT + (i % 4) * 200, legend_y + (i // 4) * 18
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="3" fill="{colour}"/><text x="{lx + 18}" y="{ly - 5}">{escape(name)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path
