"""Hand-written SVG bar charts (no plotting library): panels of grouped bars over shared categories.

A panel is a dict:
  title   text above the panel
  series  [(name, [value per category], colour)]; None values draw no bar
  line    optional (value, label): a dashed horizontal line, e.g. the c/L limit
  cap     optional: bars above it are drawn cut at the cap (zig-zag top) with their real value
  unit    optional text after the value labels
  categories  optional: this panel's own x labels (default: the chart's)
"""
from xml.sax.saxutils import escape

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948"]
WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP = 760, 220, 70, 20, 40


def number(value):
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
    """The SVG document as a string."""
    height = TOP + len(panels) * (PANEL_HEIGHT + 60) + (30 if note else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
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
        for c_index, category in enumerate(categories):
            x = LEFT + c_index * slot + slot / 2
            out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(category)}</text>')
        if len(series) > 1:  # legend
            x, y = LEFT, bottom + 26
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


def write(path, title, categories, panels, note=None):
    with open(path, "w") as svg:
        svg.write(render(title, categories, panels, note))
    return path
