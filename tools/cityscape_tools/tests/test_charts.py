"""The one SVG writer: bar panels (escaping, bar counts and heights, cut bars), line panels, the shared frame."""
import os
import re
import tempfile
import unittest
import xml.dom.minidom

from tools.cityscape_tools import charts


class Chart(unittest.TestCase):
    def render(self, **panel):
        base = {"title": "req/s", "series": [("rps", [1.0, 4.0, 20.0, 2400.0], "#123456")]}
        return charts.render("demo <c=20> & L", ["a", "b", "c", "d"], [{**base, **panel}], note="n")

    def test_a_label_wider_than_its_slot_wraps_at_a_middle_space_and_moves_the_legend_down(self):
        labels = ["a", "least-outstanding + outlier ejection", "c", "d", "e", "f", "g"]
        panel = {"title": "p", "series": [("p50", [1] * 7, "#111111"), ("p99", [2] * 7, "#222222")]}
        wrapped = charts.render("t", labels, [panel])
        short = charts.render("t", ["a", "b", "c", "d", "e", "f", "g"], [panel])
        self.assertIn('">least-outstanding</tspan>', wrapped)
        self.assertIn('dy="13">+ outlier ejection</tspan>', wrapped)
        self.assertIn(">a</text>", wrapped)  # short labels stay one plain line
        def legend_y(svg):  # the p50 swatch of the legend
            return float(re.search(r'<rect x="[\d.]+" y="([\d.]+)" width="10" height="10" fill="#111111"/>', svg)[1])
        self.assertEqual(legend_y(wrapped) - legend_y(short), 13)

    def test_well_formed_with_escaped_text(self):
        svg = self.render()
        document = xml.dom.minidom.parseString(svg)
        self.assertEqual(document.documentElement.tagName, "svg")
        self.assertIn("demo &lt;c=20&gt; &amp; L", svg)

    def test_one_bar_per_value_and_labels(self):
        svg = self.render()
        bars = re.findall(r'<rect [^>]*fill="#123456"', svg)
        self.assertEqual(len(bars), 4)
        for label in ("1.0", "4.0", "20.0", "2,400"):
            self.assertIn(f">{label}</text>", svg)

    def test_limit_line_and_cut_bar(self):
        svg = self.render(line=(20, "c/L = 20"), cap=30)
        self.assertIn('stroke-dasharray="6,4"', svg)
        self.assertIn(">c/L = 20</text>", svg)
        self.assertEqual(svg.count("<polyline"), 1)  # only the 2,400 bar is cut
        self.assertIn(">2,400</text>", svg)          # ... and still labelled with its real value
        heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)" fill="#123456"', svg)]
        self.assertLess(max(heights), 200)

    def test_bar_heights_are_proportional(self):
        svg = charts.render("t", ["a", "b"], [{"title": "p", "series": [("s", [10, 40], "#000001")]}])
        heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="#000001"', svg)]
        self.assertAlmostEqual(heights[1] / heights[0], 4, places=1)

    def test_missing_values_draw_nothing_and_panels_have_own_categories(self):
        svg = charts.render("t", [], [{"title": "p", "categories": ["x", "y"], "series": [("s", [None, 3], "#000002")]}])
        self.assertEqual(len(re.findall(r'fill="#000002"', svg)), 1)
        self.assertIn(">x</text>", svg)

    def test_write(self):
        with tempfile.TemporaryDirectory() as directory:
            path = charts.write(os.path.join(directory, "c.svg"), "t", ["a"], [{"title": "p", "series": [("s", [1], "#000")]}])
            xml.dom.minidom.parse(path)

    def test_nice_axis_maximum(self):
        self.assertEqual([charts.nice_max(v) for v in (0, 0.3, 7, 22, 31, 990)], [1, 1, 10, 25, 50, 1000])


class Lines(unittest.TestCase):
    def write(self, directory):
        panels = [("RSS (MiB)", [("sun", [(0, 10.0), (10, 12.0), (20, 11.0)]), ("proxy", [(0, 5.0), (20, 6.0)])]),
                  ("errors", [("errors", [(0, 0), (10, 3), (20, 0)]), ("sun", [(0, 1), (20, 2)])])]
        path = charts.write_lines(os.path.join(directory, "soak.svg"), "Soak <1> & 2", panels, 20, markers=[5, 15])
        with open(path) as f:
            return f.read()

    def test_one_polyline_per_series_per_panel_and_markers_on_every_panel(self):
        with tempfile.TemporaryDirectory() as directory:
            svg = self.write(directory)
        xml.dom.minidom.parseString(svg)
        self.assertIn("Soak &lt;1&gt; &amp; 2", svg)
        self.assertEqual(svg.count("<polyline"), 4)
        self.assertEqual(svg.count('stroke-dasharray="3,3"'), 4)  # 2 markers × 2 panels

    def test_a_series_keeps_its_colour_across_panels(self):
        with tempfile.TemporaryDirectory() as directory:
            svg = self.write(directory)
        colours = re.findall(r'stroke="(#[0-9a-f]{6})" stroke-width="1.5"><title>(\w+)</title>', svg)
        sun = [colour for colour, name in colours if name == "sun"]
        self.assertEqual(len(sun), 2)
        self.assertEqual(sun[0], sun[1])
        self.assertEqual(len({colour for colour, _ in colours}), 3)  # sun, proxy, errors

    def test_points_span_the_time_axis(self):
        with tempfile.TemporaryDirectory() as directory:
            svg = self.write(directory)
        first = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
        xs = [float(point.split(",")[0]) for point in first]
        self.assertEqual(xs[0], charts.LINE_LEFT)
        self.assertEqual(xs[-1], charts.LINE_WIDTH - 20)


class Frame(unittest.TestCase):
    def test_pixel_size_equals_view_box_and_role_is_optional(self):
        opening = charts.frame(300, 200, role="img")
        self.assertIn('width="300" height="200" viewBox="0 0 300 200"', opening[0])
        self.assertIn('role="img"', opening[0])
        self.assertNotIn("role", charts.frame(300, 200)[0])
        self.assertEqual(opening[1], '<rect width="300" height="200" fill="white"/>')


if __name__ == "__main__":
    unittest.main()
