"""The lab report as one self-contained HTML page: inline SVG charts, no script, no network.

Built from the JSON that demo.py writes (so a page can be rebuilt from its data). Every data point
is drawn as an element with class "mark" inside a <figure data-chart="…">, which is what the browser
test counts against the JSON.
"""
import html
import re

from tools.cityscape_tools import charts

WIDTH = 760
COLOURS = {"ok": "#59a14f", "503": "#f28e2b", "timeout": "#e15759", "error": "#9c755f",
           "p50": "#4e79a7", "p99": "#e15759", "predicted": "#b07aa1"}
OUTCOME_NAMES = {"ok": "answered in time (2xx)", "503": "shed (503)", "timeout": "timed out", "error": "other error"}


def esc(text):
    return html.escape(str(text), quote=True)


def num(value, digits=0):
    return "–" if value is None else f"{value:,.{digits}f}"


def marked(svg):
    """charts.render's bars (a rect with a <title>) as marks, so every chart is counted the same way."""
    return re.sub(r"<rect (x=[^>]*)><title>", r'<rect class="mark" \1><title>', svg)


def axis_ticks(top, count=4):
    return [top * k / count for k in range(count + 1)]


def latency_ticks(top):
    """Round gridlines (every 500 ms up to 2.5 s, then every second) below the axis top."""
    step = 500 if top <= 2600 else 1000
    return [step * k for k in range(int(top // step) + 1)]


# MARK: capacity sweep

def sweep_svg(fix, timeout_ms):
    steps = fix["steps"]
    left, right, top, plot_h, share_h = 64, 16, 44, 200, 90
    height = top + plot_h + 56 + share_h + 58
    slot = (WIDTH - left - right) / len(steps)
    x_of = lambda i: left + slot * (i + 0.5)
    y_top = max(timeout_ms * 1.1, max(s["p99_ms"] for s in steps) * 1.05)
    y_of = lambda ms: top + plot_h - ms / y_top * plot_h
    out = charts.frame(WIDTH, height, role="img") + [
        f'<text x="{left}" y="18" font-size="14" font-weight="bold">{esc(fix["scenario"])}: latency as offered load grows '
        f'(open loop, {step_lengths(steps)} per step)</text>',
        f'<text x="{left}" y="36" fill="#555">latency from the intended send time, ms (timeouts count as {timeout_ms:,.0f} ms)</text>']
    for tick in latency_ticks(y_top):
        y = y_of(tick)
        out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{tick:,.0f}</text>')
    y = y_of(timeout_ms)
    out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e15759" stroke-dasharray="2,3"/>')
    out.append(f'<text x="{WIDTH - right - 4}" y="{y - 4:.1f}" text-anchor="end" fill="#e15759" font-size="11">'
               f'client timeout {timeout_ms / 1000:g} s</text>')
    # The measured knee: the band between the last healthy step and the first unhealthy one.
    good, bad = fix["knee"]
    rates = [s["offered_rps"] for s in steps]
    if bad is not None:
        x0 = x_of(rates.index(good)) if good is not None else left
        x1 = x_of(rates.index(bad))
        out.append(f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{plot_h}" fill="#f2c14e" opacity="0.25"/>')
        out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top + plot_h - 8}" text-anchor="middle" fill="#8a6d00" font-size="11">'
                   'measured knee</text>')
    # The predicted capacity N/L, placed between the steps around it (offered rates rise monotonically).
    capacity = fix["predicted_rps"]
    position = interpolate_position(rates, capacity)
    if position is not None:
        x = left + slot * (position + 0.5)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h + share_h + 56}" stroke="{COLOURS["predicted"]}" '
                   'stroke-width="2" stroke-dasharray="6,4"/>')
        out.append(f'<text x="{x + 4:.1f}" y="{top + 30}" fill="{COLOURS["predicted"]}" font-weight="bold">'
                   f'predicted N/L = {capacity:,.0f} req/s</text>')
    else:
        out.append(f'<text x="{WIDTH - right - 4}" y="{top + 30}" text-anchor="end" fill="{COLOURS["predicted"]}" '
                   f'font-weight="bold">predicted N/L = {capacity:,.0f} req/s (off the chart →)</text>')
    for name in ("p50", "p99"):
        points = [(x_of(i), y_of(s[f"{name}_ms"])) for i, s in enumerate(steps)]
        out.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" fill="none" '
                   f'stroke="{COLOURS[name]}" stroke-width="2"/>')
        for (x, y), step in zip(points, steps):
            out.append(f'<circle class="mark" data-series="{name}" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{COLOURS[name]}">'
                       f'<title>{name} {step[name + "_ms"]:,.0f} ms at {step["offered_rps"]:,.0f} req/s offered</title></circle>')
    legend_y = top + plot_h + 4
    for k, (name, label) in enumerate((("p50", "p50 latency"), ("p99", "p99 latency"))):
        out.append(f'<circle cx="{left + 8 + k * 120}" cy="{legend_y + 8}" r="4" fill="{COLOURS[name]}"/>')
        out.append(f'<text x="{left + 16 + k * 120}" y="{legend_y + 12}">{label}</text>')
    # Shares of outcomes per step, stacked: timeouts, 503s, other errors (the rest answered in time).
    share_top = top + plot_h + 40
    out.append(f'<text x="{left}" y="{share_top - 6}" fill="#555">share of requests that failed (0–100 %)</text>')
    out.append(f'<rect x="{left}" y="{share_top}" width="{WIDTH - left - right}" height="{share_h}" fill="#f7f7f7"/>')
    for tick in (0, 50, 100):
        y = share_top + share_h - tick / 100 * share_h
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{tick} %</text>')
    bar_w = slot * 0.6
    for i, step in enumerate(steps):
        base = share_top + share_h
        for key, colour_key in (("timeout_share", "timeout"), ("shed_share", "503"), ("other_share", "error")):
            h = step[key] * share_h
            out.append(f'<rect class="mark" data-series="{colour_key}" x="{x_of(i) - bar_w / 2:.1f}" y="{base - h:.1f}" '
                       f'width="{bar_w:.1f}" height="{h:.1f}" fill="{COLOURS[colour_key]}"><title>{OUTCOME_NAMES[colour_key]}: '
                       f'{step[key]:.1%} at {step["offered_rps"]:,.0f} req/s</title></rect>')
            base -= h
        failed = step["timeout_share"] + step["shed_share"] + step["other_share"]
        if failed >= 0.005:
            out.append(f'<text x="{x_of(i):.1f}" y="{base - 3:.1f}" text-anchor="middle" font-size="11">{failed:.0%}</text>')
        label_y = share_top + share_h + 16
        multiple = step["offered_rps"] / capacity if capacity else None
        out.append(f'<text x="{x_of(i):.1f}" y="{label_y}" text-anchor="middle">{step["offered_rps"]:,.0f}</text>')
        if multiple is not None and capacity <= steps[-1]["offered_rps"]:
            out.append(f'<text x="{x_of(i):.1f}" y="{label_y + 14}" text-anchor="middle" fill="#777" font-size="11">'
                       f'{multiple:.2g}×</text>')
    legend_y = share_top + share_h + 46
    out.append(f'<text x="{left}" y="{legend_y}" fill="#555">offered load, req/s (and × N/L)</text>')
    x = left + 230
    for key in ("timeout", "503", "error"):
        out.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{COLOURS[key]}"/>')
        out.append(f'<text x="{x + 14}" y="{legend_y}">{OUTCOME_NAMES[key]}</text>')
        x += 30 + 7 * len(OUTCOME_NAMES[key])
    out.append("</svg>")
    return "\n".join(out)


def step_lengths(steps):
    shortest, longest = min(s["duration_s"] for s in steps), max(s["duration_s"] for s in steps)
    return f"{shortest:g} s" if shortest == longest else f"{shortest:g}–{longest:g} s"


def interpolate_position(rates, value):
    """Where `value` falls on the evenly spaced step axis (fractional index), or None outside it."""
    if not value or value < rates[0] or value > rates[-1]:
        return None
    for i in range(len(rates) - 1):
        if rates[i] <= value <= rates[i + 1]:
            return i + (value - rates[i]) / (rates[i + 1] - rates[i]) if rates[i + 1] != rates[i] else i
    return len(rates) - 1


# MARK: timeline

def timeline_svg(run, timeout_ms, latency_s, x_max):
    left, right, top, plot_h = 64, 16, 40, 170
    height = top + plot_h + 52
    y_top = timeout_ms * 1.15
    x_of = lambda s: left + s / x_max * (WIDTH - left - right)
    y_of = lambda ms: top + plot_h - min(ms, y_top) / y_top * plot_h
    counts = {}
    for _, _, outcome in run["points"]:
        counts[outcome] = counts.get(outcome, 0) + 1
    out = charts.frame(WIDTH, height, role="img") + [
        f'<text x="{left}" y="18" font-size="14" font-weight="bold">{esc(run["scenario"])}: every request of c={run["connections"]} '
        f'for {run["duration_s"]:g} s</text>',
        f'<text x="{left}" y="33" fill="#555">one dot per request: sent at x (s), took y (ms); dots sent at the same '
        'moment overlap</text>']
    for tick in latency_ticks(y_top):
        y = y_of(tick)
        out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{tick:,.0f}</text>')
    for value, label, colour in ((latency_s * 1000, f"L = {latency_s:g} s", "#4e79a7"),
                                 (timeout_ms, f"timeout {timeout_ms / 1000:g} s", "#e15759")):
        y = y_of(value)
        out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-dasharray="2,3"/>')
        out.append(f'<text x="{WIDTH - right - 4}" y="{y - 4:.1f}" text-anchor="end" fill="{colour}" font-size="11">{label}</text>')
    for second in range(0, int(x_max) + 1, 1 if x_max <= 12 else 2):
        x = x_of(second)
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#555">{second}</text>')
    out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>')
    for sent, latency, outcome in run["points"]:
        shown = latency if latency is not None else timeout_ms
        out.append(f'<circle class="mark" data-series="{outcome}" cx="{x_of(sent):.1f}" cy="{y_of(shown):.1f}" r="2.6" '
                   f'fill="{COLOURS[outcome]}" fill-opacity="0.75"><title>sent at {sent:.2f} s: '
                   f'{OUTCOME_NAMES[outcome]}, {shown:,.0f} ms</title></circle>')
    x = left
    legend_y = top + plot_h + 38
    out.append(f'<text x="{x}" y="{legend_y}" fill="#555">send time, s</text>')
    x += 100
    for key in ("ok", "timeout", "503", "error"):
        if key not in counts and key != "ok":
            continue
        label = f"{OUTCOME_NAMES[key]}: {counts.get(key, 0)}"
        out.append(f'<circle cx="{x + 5}" cy="{legend_y - 4}" r="4" fill="{COLOURS[key]}"/>')
        out.append(f'<text x="{x + 14}" y="{legend_y}">{esc(label)}</text>')
        x += 34 + 7 * len(label)
    out.append("</svg>")
    return "\n".join(out)


# MARK: the page

def little_svg(rows):
    labels = [row["scenario"] for row in rows]
    panel = {"title": "requests in flight: the service's own gauge vs throughput × mean latency",
             "series": [("measured: mean of the in-flight gauge", [row["little"]["measured_in_flight"] for row in rows],
                         charts.PALETTE[0]),
                        ("Little's law: throughput × mean time inside", [row["little"]["predicted_in_flight"] for row in rows],
                         charts.PALETTE[1])]}
    return marked(charts.render("Little's law, c=20 closed loop per fix", labels, [panel]))


def cost_svg(rows):
    labels = [row["scenario"] for row in rows]
    panels = [
        {"title": "CPU ms per 1,000 requests (all serving processes)", "series": [
            ("CPU ms / 1,000 requests", [row["cpu_ms_per_1k"] for row in rows], charts.PALETTE[5])]},
        {"title": "threads (all serving processes)", "series": [("threads", [row["threads"] for row in rows], charts.PALETTE[4])]},
        {"title": "peak RSS, MiB (sum)", "series": [("peak RSS", [row["peak_rss_mib"] for row in rows], charts.PALETTE[6])]},
    ]
    return marked(charts.render("What each way of serving costs at c=20 (the course run)", labels, panels))


def slow_replica_svg(data):
    """p50/p99 and timeouts per configuration, and every replica's share of the requests, the slow one in red."""
    runs, slow = data["runs"], data["slow_index"]
    labels = [run["label"] for run in runs]
    limit = data["target"]["p99_limit_ms"]
    replica_colours = [charts.PALETTE[0], charts.PALETTE[4], charts.PALETTE[6], charts.PALETTE[3]]
    shares = [(f"replica {i + 1}" + (f" (the slow one, L = {data['slow_latency_s']:g} s)" if i == slow else ""),
               [round(100 * run["replica_shares"][i]) for run in runs], replica_colours[i % len(replica_colours)])
              for i in range(data["replicas"])]
    panels = [
        # The target's value goes in the title: a label on the line would sit on the bars' own labels near it.
        {"title": f"latency, ms (generator timeout {data['timeout_s']:g} s); dashed: target 1.2 × all-healthy p99 = "
                  f"{limit:,.0f} ms", "line": (limit, ""),
         "series": [("p50", [run["p50_ms"] for run in runs], COLOURS["p50"]),
                    ("p99", [run["p99_ms"] for run in runs], COLOURS["p99"])]},
        {"title": f"timeouts (no answer within {data['timeout_s']:g} s)",
         "series": [("timeouts", [run["timeouts"] for run in runs], COLOURS["timeout"])]},
        {"title": "share of the requests each replica got, % (all healthy: replica 4 is a healthy one)", "unit": " %",
         "series": shares},
    ]
    return marked(charts.render(f"One slow replica: {data['replicas']} × {data['workers']} blocking behind the proxy, "
                               f"{data['rate']:g} req/s open loop", labels, panels,
                               note=f"{data.get('warmup_s', 0):g} s warm-up, then {data['duration_s']:g} s measured per "
                                    f"configuration; replica {slow + 1}'s location and sun answer "
                                    f"in {data['slow_latency_s'] / 2:g} s each instead of 0.5 s"))


def table_html(rows):
    head = ["scenario", "proc.", "requests", "req/s", "÷ c/L", "in time /s", "avg", "p99", "timeouts",
            "non-2xx", "CPU s", "threads", "peak RSS", "CPU ms/1k"]
    ms = lambda v: "–" if v is None else f"{v:,.0f} ms"
    body = []
    for r in rows:
        cells = [r["scenario"], r["processes"], f"{r['requests']:,}", f"{r['rps']:,.1f}", f"{r['ratio_to_limit']:.2f}",
                 f"{r['ok_rps']:,.1f}", ms(r["avg_ms"]), ms(r["p99_ms"]), f"{r['timeouts']:,}", f"{r['non_2xx']:,}",
                 f"{r['cpu_seconds']:.2f}", r["threads"], f"{r['peak_rss_mib']:.0f} MiB", num(r["cpu_ms_per_1k"])]
        cells = [str(c).replace(" ms", "\u00a0ms").replace(" MiB", "\u00a0MiB") for c in cells]
        body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    return ("<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


def figure(chart_id, svg, reading):
    """A chart and its reading; a reading given as a list of lines keeps one line per item."""
    lines = reading if isinstance(reading, list) else [reading]
    text = "<br>".join(esc(line) for line in lines)
    return f'<figure data-chart="{esc(chart_id)}">\n{svg}\n<p class="reading">{text}</p></figure>'


def chart_ids(result):
    """Every chart the page has, with its expected number of marks from the data (what the browser test checks)."""
    ids = {"course": 3 * len(result["scenarios"])}
    for fix in result["lab"]["sweeps"]:
        ids["sweep-" + fix["id"]] = 5 * len(fix["steps"])
    for run in result["lab"]["timelines"]:
        ids["timeline-" + run["id"]] = len(run["points"])
    ids["little"] = 2 * len(result["lab"]["timelines"])
    ids["cost"] = 3 * len(result["scenarios"])
    slow = result["lab"]["slow_replica"]
    ids["slow-replica"] = (3 + slow["replicas"]) * len(slow["runs"])
    return ids


def render(result, course_svg):
    lab = result["lab"]
    timeout_ms = lab["timeout_s"] * 1000
    accuracy = lab["accuracy"]
    x_max = max(run["duration_s"] for run in lab["timelines"]) + lab["timeout_s"]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Cityscape lab report {esc(result['date'])}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<style>body{font-family:sans-serif;max-width:820px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
        ".wide{overflow-x:auto}"
        "figure{margin:1.5em 0;padding:0}svg{max-width:100%;height:auto;border:1px solid #eee}"
        "table{border-collapse:collapse;font-size:11.5px}td,th{border:1px solid #ddd;padding:2px 4px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}.reading{background:#f6f8fa;padding:.6em .8em;border-left:3px solid #4e79a7}"
        "h2{margin-top:2em}.meta{color:#555;font-size:13px}</style></head><body>",
        "<h1>Cityscape: waiting on slow upstreams, measured</h1>",
        f'<p class="meta">{esc(result["header"])}</p>',
        "<h2>1. The course run: c=20 connections, five ways of serving</h2>",
        f"<p>wrk -t2 -c{result['connections']} -d{result['duration_s']}s --timeout {esc(result['timeout'])}; location and sun answer "
        f"after 500 ms each, so one request takes at least L = {result['latency_s']:g} s and c/L = {result['limit_rps']:g} req/s "
        "is the best any server can do for 20 connections that wait for each answer.</p>",
        '<div class="wide">' + table_html(result["scenarios"]) + "</div>",
        figure("course", marked(course_svg), result["explanation"]),
        "<h2>2. Where each fix saturates: open-loop capacity sweeps</h2>",
        "<p>The generator starts requests at a fixed rate whatever the answers, and times each from when it should have "
        "been sent, so a slow server cannot slow the load down (wrk can: it waits for an answer before sending again). "
        "A server with N workers and latency L answers at most N/L req/s; past that the queue grows by the excess every "
        "second, and waiting grows like ρ/(1−ρ).</p>",
    ]
    for fix in lab["sweeps"]:
        parts.append(figure("sweep-" + fix["id"], sweep_svg(fix, timeout_ms), fix["reading"]))
    parts += [
        "<h2>3. What each request lived through: c=20 timelines</h2>",
        "<p>The course's 20 connections again, as a closed loop (each connection sends its next request when the previous one "
        "ends, like wrk), with every request kept.</p>",
    ]
    for run in lab["timelines"]:
        parts.append(figure("timeline-" + run["id"], timeline_svg(run, timeout_ms, result["latency_s"], x_max), run["reading"]))
    parts += [
        "<h2>4. Why: Little's law</h2>",
        "<p>In flight = throughput × time inside. The gateway's gauge <code>gateway_requests_in_flight</code> (the proxy's "
        "<code>proxy_requests_in_flight</code> for scale-out), sampled every 50 ms during each c=20 run, against the generator's "
        "own throughput and mean time per request.</p>",
        figure("little", little_svg(lab["timelines"]), lab["little_reading"]),
        "<p>Where the two agree, the service's gauge and the client's clock describe the same queue. Where they do not, "
        "the difference is time the client did not see: requests it gave up on that the service still held.</p>",
        "<h2>5. What each fix costs</h2>",
        figure("cost", cost_svg(result["scenarios"]), lab["cost_reading"]),
        "<h2>6. Scale-out with one slow replica: the balancer decides</h2>",
        f"<p>{lab['slow_replica']['replicas']} blocking replicas × {lab['slow_replica']['workers']} workers behind "
        "cityscape-proxy, one of them slow but alive: its own location and sun answer 3 × slower. Open loop at 70 % of "
        f"the healthy capacity N/L, {lab['slow_replica']['rate']:g} req/s, once per <code>--balance</code> policy and once "
        "with all replicas healthy. Health checks catch a dead replica, not a slow one; only the policy can steer "
        "around it.</p>",
        figure("slow-replica", slow_replica_svg(lab["slow_replica"]), lab["slow_replica"]["reading"]),
        "<h2>The generator's own accuracy</h2>",
        f"<p>cityscape-openload at {accuracy['rate']:,.0f} req/s for {accuracy['duration_s']:g} s against the {esc(accuracy['url_kind'])}: "
        f"{accuracy['requests']:,} requests, actual minus intended start p50 {accuracy['lag_p50_ms']:.3f} ms, "
        f"p99 {accuracy['lag_p99_ms']:.3f} ms, max {accuracy['lag_max_ms']:.3f} ms (target: p99 ≤ 1 ms).</p>",
        f'<p class="meta">Raw data: <code>{esc(result["json_name"])}</code> beside this page. Generated by '
        f'<code>{esc(result["command"])}</code>.</p>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
