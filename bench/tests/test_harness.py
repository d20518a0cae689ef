"""Tests of the harness itself: measurement of real processes and the markdown report.

Run with `python3 -m unittest discover -s bench/tests` from the repository root. They spawn real
processes (Python children that hold known amounts of memory) and assert what was measured.
"""

import shlex
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dgbench.cases import Row  # noqa: E402
from dgbench.measure import (  # noqa: E402
    Measurement,
    RunOutput,
    _schedule,
    measure,
    measure_interleaved,
)
from dgbench.report import fmt_seconds, table  # noqa: E402

MIB = 1024
HOLD = "import sys, time; b = bytearray({mib} << 20); b[::4096] = b'1' * len(b[::4096]); " \
       "print('held'); sys.stdout.flush(); time.sleep({secs})"


def hold(mib: int, secs: float) -> list:
    """A Python command that touches `mib` MiB, prints `held`, and sleeps."""
    return [sys.executable, "-c", HOLD.format(mib=mib, secs=secs)]


class MeasureTest(unittest.TestCase):
    def test_counts_runs_and_keeps_first_output(self):
        m = measure(["/bin/echo", "hello"], Path("/"), runs=4)
        self.assertTrue(m.ok)
        self.assertEqual(len(m.times), 4)
        self.assertEqual(len(m.cpu_times), 4)
        self.assertEqual(m.first.stdout, "hello\n")
        self.assertLessEqual(m.min, m.median)
        self.assertLessEqual(m.median, m.max)

    def test_failure_is_recorded_with_exit_code(self):
        m = measure(["/bin/sh", "-c", "echo broken >&2; exit 3"], Path("/"), runs=2)
        self.assertFalse(m.ok)
        self.assertEqual(m.first.exit_code, 3)
        self.assertEqual(m.first.stderr, "broken\n")
        self.assertEqual(m.failed_runs, 2)

    def test_peak_rss_of_one_process_excludes_the_harness(self):
        small = measure(["/bin/true"], Path("/"), runs=1)
        big = measure(hold(120, 0), Path("/"), runs=1)
        self.assertGreater(big.cpu_median, 0)
        self.assertLess(small.peak_rss_kib, 8 * MIB)
        self.assertGreaterEqual(big.peak_rss_kib, 120 * MIB)

    def test_peak_rss_sums_the_process_tree(self):
        child = shlex.join(hold(80, 0.6))
        script = f"{child} & {child} & wait"
        m = measure(["/bin/sh", "-c", script], Path("/"), runs=1)
        self.assertEqual(m.first.stdout, "held\nheld\n")
        self.assertGreaterEqual(m.peak_rss_kib, 160 * MIB)

    def test_interleaved_sides_keep_their_own_runs_and_output(self):
        a, b = measure_interleaved(
            [(["/bin/echo", "a"], 2), (["/bin/echo", "b"], 5)], Path("/"))
        self.assertEqual((len(a.times), len(b.times)), (2, 5))
        self.assertEqual((a.first.stdout, b.first.stdout), ("a\n", "b\n"))

    def test_a_side_can_take_a_fresh_command_per_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            (m,) = measure_interleaved([(lambda n: ["mkdir", f"{tmp}/run-{n}"], 3)], Path(tmp))
            made = sorted(p.name for p in Path(tmp).iterdir())
        self.assertTrue(m.ok)
        self.assertEqual(made, ["run-0", "run-1", "run-2", "run-3"])

    def test_schedule_spreads_each_side_over_the_whole_run(self):
        order = _schedule([2, 6])
        self.assertEqual(sorted(order), [0, 0, 1, 1, 1, 1, 1, 1])
        self.assertNotIn(0, order[:1] + order[-1:])
        self.assertIn(0, order[:4])
        self.assertIn(0, order[4:])


def _m(median: float, code: int = 0) -> Measurement:
    return Measurement(times=[median], peak_rss_kib=2048, first=RunOutput(code, "", "boom"),
                       cpu_times=[median / 2])


class ReportTest(unittest.TestCase):
    def test_ratio_and_target(self):
        rows = [
            Row("dg list projects", 2, _m(1.5), _m(0.01), target=100),
            Row("dg check toml", 50, _m(1.5), _m(0.003), target=100),
        ]
        text = table(rows)
        self.assertIn("| `dg list projects` | 2 | 1.50 s (1.50 s-1.50 s, n=1) |", text)
        self.assertIn("| 150x | 150x | 2.0 MiB | 2.0 MiB | >= 100x yes |", text)
        self.assertIn("| 500x |", text)

    def test_failed_side_has_no_ratio_and_a_note(self):
        row = Row("dg check toml", 2, _m(1.5), _m(0.01, code=2), target=100)
        row.notes.append("ours failed (exit 2): boom")
        text = table([row])
        self.assertIn("failed (exit 2) | - |", text)
        self.assertIn(">= 100x NO", text)
        self.assertIn("- `dg check toml` [2]: ours failed (exit 2): boom", text)

    def test_fmt_seconds(self):
        self.assertEqual(fmt_seconds(0.0012), "1.20 ms")
        self.assertEqual(fmt_seconds(0.25), "250 ms")
        self.assertEqual(fmt_seconds(1.5), "1.50 s")
        self.assertEqual(fmt_seconds(0.009999), "10 ms")
        self.assertEqual(fmt_seconds(0.9999), "1.00 s")


if __name__ == "__main__":
    unittest.main()


class InstanceCasesTest(unittest.TestCase):
    def test_postgres_urls_and_versions(self):
        from dgbench.instance_setup import postgres_version, with_database

        self.assertEqual(postgres_version("1.13.27"), "0.29.27")
        self.assertEqual(postgres_version("1.12.22"), "0.28.22")
        url = "postgres://postgres:pw@127.0.0.1:5432/postgres"
        self.assertEqual(with_database(url, "db1"), "postgres://postgres:pw@127.0.0.1:5432/db1")
        self.assertEqual(with_database(url, "db1", "postgresql+psycopg2"),
                         "postgresql+psycopg2://postgres:pw@127.0.0.1:5432/db1")

    def test_quick_and_backends_reach_the_cases(self):
        from dgbench.cli import parser

        args = parser().parse_args(["--quick", "--backends", "sqlite", "--case", "api-runs"])
        self.assertTrue(args.quick)
        self.assertEqual(args.backends, ("sqlite",))
        with self.assertRaises(SystemExit):
            parser().parse_args(["--backends", "mysql"])
