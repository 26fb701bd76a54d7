"""Publishing a run as a machine's reference: everything it needs, or a one-line refusal."""
import subprocess
import sys

import pytest

from conftest import REPO, SCRIPTS
from posebench.report.compare import flops_agree, params_agree
from posebench.report.publish import PUBLISHED, conditions


def publish(*args):
    return subprocess.run([sys.executable, str(SCRIPTS / "publish.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=REPO)


def test_a_run_is_copied_whole_with_the_command_that_made_it(tmp_path):
    results = tmp_path / "results"
    (results / "plots").mkdir(parents=True)
    for name in PUBLISHED:
        (results / name).write_text(name)
    (results / "measurements.csv").write_text(
        "id,round,load1_before,load1_after,runnable_before,runnable_after\nm,1,0.5,1.5,1,2\nm,2,1.0,1.0,2,3\n")
    (results / "plots" / "map_vs_gflops.png").write_bytes(b"png")
    target = tmp_path / "published" / "this-machine"
    target.mkdir(parents=True)
    (target / "stale.md").write_text("from an earlier publish")
    run = publish(results, target, "--alone", "--command", "make table && make publish MACHINE=this-machine ALONE=1")
    assert run.returncode == 0, run.stderr
    assert sorted(path.name for path in target.iterdir()) == sorted(PUBLISHED + ["COMMAND.md", "plots"])
    assert (target / "table.csv").read_text() == "table.csv"
    assert (target / "plots" / "map_vs_gflops.png").read_bytes() == b"png"
    note = (target / "COMMAND.md").read_text()
    assert "make table && make publish MACHINE=this-machine ALONE=1" in note
    assert "compare_with=%s" % target in note
    # the publisher's word that the machine was otherwise idle, and the load its rounds recorded
    assert note.endswith(
        "\nNothing else ran on the machine during the run (stated by whoever published it). Just before and after "
        "their timed iterations, its 2 rounds recorded a 1-minute load average of median 1.00 (range 0.50–1.50) "
        "and a median of 2 runnable tasks (at most 3), the round's own threads among them.\n")


def test_the_load_counts_the_scene_rounds_beside_the_model_rounds(tmp_path):
    (tmp_path / "measurements.csv").write_text(
        "id,round,load1_before,load1_after,runnable_before,runnable_after\nm,1,0.5,1.5,1,2\nm,2,1.0,1.0,2,3\n")
    # a scene round has a row per number of people: two rows, one round
    (tmp_path / "scene_measurements.csv").write_text(
        "id,round,batch_size,load1_before,load1_after,runnable_before,runnable_after\n"
        "s,1,1,2.0,2.0,2,2\ns,1,5,3.0,3.0,4,4\n")
    assert conditions(tmp_path, alone=False) == (
        "\nWhoever published it did not state that nothing else ran on the machine during the run. Just before and "
        "after their timed iterations, its 2 rounds and 1 scene round recorded a 1-minute load average of median "
        "1.75 (range 0.50–3.00) and a median of 2 runnable tasks (at most 4), the round's own threads among them.\n")


SPANS = "id,round,started_at,ended_at,probe_before,probe_after,load1_before,load1_after,runnable_before,runnable_after"


def test_a_run_taken_up_again_later_says_its_sittings_and_the_probe_in_each(tmp_path):
    (tmp_path / "measurements.csv").write_text(
        SPANS + "\n"
        "m,1,2026-12-06T23:20:00+00:00,2026-12-06T23:21:00+00:00,200,210,2,2,2,2\n"
        "m,2,2026-12-06T23:40:00+00:00,2026-12-06T23:41:30+00:00,220,230,2,2,2,2\n"
        "m,3,2026-12-07T09:05:00+00:00,2026-12-07T09:06:00+00:00,300,320,2,2,2,2\n")
    # a scene round 25 minutes after the last model round of the first sitting: still the same sitting
    (tmp_path / "scene_measurements.csv").write_text(
        "id,round,batch_size," + SPANS[len("id,round,"):] + "\n"
        "s,1,1,2026-12-07T00:06:00+00:00,2026-12-07T00:07:00+00:00,240,,2,2,2,2\n")
    assert conditions(tmp_path, alone=True).endswith(
        "Its rounds ran in 2 sittings, the run taken up again where it stopped: 2026-12-06 23:20 to 2026-12-07 "
        "00:07 UTC, machine-speed probe median 220 GFLOP/s; 2026-12-07 09:05 to 2026-12-07 09:06 UTC, "
        "machine-speed probe median 310 GFLOP/s.\n")
    (tmp_path / "scene_measurements.csv").unlink()
    (tmp_path / "measurements.csv").write_text(
        SPANS + "\n"
        "m,1,2026-12-06T23:20:00+00:00,2026-12-06T23:21:00+00:00,200,210,2,2,2,2\n")
    assert conditions(tmp_path, alone=True).endswith(
        "Its rounds ran in one sitting, 2026-12-06 23:20 to 2026-12-06 23:21 UTC, machine-speed probe median "
        "205 GFLOP/s.\n")


def test_an_unfinished_run_is_refused_in_one_line_and_nothing_is_written(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "table.md").write_text("half")
    target = tmp_path / "published" / "m"
    run = publish(results, target, "--command", "x")
    assert run.returncode == 1 and not target.exists()
    assert run.stderr.strip() == ("publish: %s lacks table.csv, measurements.csv, cells.csv, environment.json, "
                                  "compare_seed.md (run `make table` first)" % results)


def test_every_published_table_parses_and_has_the_seeds_78_rows():
    from posebench.catalog.seed import read_seed_csv
    from posebench.records import read_table_csv
    from posebench.report.compare import complexity_mismatches

    seed = read_seed_csv(REPO / "resources" / "seed_table.csv")
    tables = sorted((REPO / "published").glob("*/table.csv"))
    assert tables, "no machine has a published table under published/"
    for path in tables:
        rows = read_table_csv(path)
        assert sorted(rows) == sorted(seed) and len(rows) == 78, path
        assert complexity_mismatches(rows, seed, require_all=True) == [], path
        markdown = path.with_name("table.md").read_text()
        assert sum(1 for line in markdown.splitlines() if "[config]" in line) == 78, path
        for name in PUBLISHED + ["COMMAND.md"]:
            assert path.with_name(name).is_file(), (path.parent, name)


def published_modern_tables():
    from posebench.records import read_table_csv

    tables = sorted((REPO / "published" / "modern").glob("*/table.csv"))
    assert tables, "no machine has a published modern table under published/modern/"
    return {path: read_table_csv(path) for path in tables}


def test_every_published_modern_table_has_the_modern_list():
    import yaml

    ids = [entry["id"] for entry in yaml.safe_load((REPO / "config" / "models-modern.yaml").read_text())["models"]]
    for path, rows in published_modern_tables().items():
        assert list(rows) == ids, path


def test_every_published_modern_table_has_its_authors_figures_and_every_record():
    import csv

    with open(REPO / "resources" / "published_complexity.csv", newline="") as handle:
        published = {row["id"]: row for row in csv.DictReader(handle)}
    for path, rows in published_modern_tables().items():
        for model_id, figure in published.items():
            if model_id not in rows:
                continue
            row = rows[model_id]
            # the table's columns as the complexity record holds them, for make check-published's rule
            counted = {figure["counter"]: {"gflops": float(row["%s_gflops" % figure["counter"]])}}
            assert params_agree(float(row["params_m"]), figure)[0], (path, model_id)
            assert flops_agree(counted, figure)[0], (path, model_id)
        assert all(row["params_m"] not in ("", "error") for row in rows.values()), path
        for name in PUBLISHED + ["runtimes.md", "runtimes.csv", "COMMAND.md"]:
            assert path.with_name(name).is_file(), (path.parent, name)
