"""Aggregate the scene rounds into scene_measurements.csv (a row per round), scenes.csv,
scenes.md and a plot of frames per second against the number of people per device."""
import argparse
from pathlib import Path

from posebench.records import read_json, records_by_id, write_text
from posebench.report.measurements import measurement_table
from posebench.report.scene_table import draw, render_markdown, scene_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rounds", type=Path, nargs="+", help="results/scenes/{scene}/{device}/round{N}.json")
    parser.add_argument("--labels", type=Path, nargs="+", required=True, help="results/labels/{id}.json")
    parser.add_argument("--target", type=float, required=True)
    parser.add_argument("--max-probe-deviation", type=float, required=True)
    parser.add_argument("--measurements", type=Path, required=True, help="scene_measurements.csv")
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--plots", type=Path, nargs="+", required=True, help="plots/scenes_fps_vs_people_{device}.png")
    args = parser.parse_args()
    records = [read_json(path) for path in args.rounds]
    rounds = measurement_table(records)  # shaped as the model rounds' measurements.csv
    table = scene_table(rounds, records, records_by_id(args.labels), args.target, args.max_probe_deviation)
    frame_size = records[0]["frame_size"]
    write_text(args.measurements, rounds.to_csv(index=False))
    write_text(args.csv, table.to_csv(index=False))
    write_text(args.markdown, render_markdown(table, frame_size, args.target, args.max_probe_deviation))
    for plot in args.plots:
        device = plot.stem.rsplit("_", 1)[-1]
        draw(table, device, plot, "%d×%d frame, %s" % (frame_size[0], frame_size[1], records[0]["environment"].get("cpu", "")))


if __name__ == "__main__":
    main()
