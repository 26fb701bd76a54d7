"""Copy a run's results/ to published/<machine>/ as that machine's reference table."""
import argparse
import sys
from pathlib import Path

from posebench.report.publish import PublishError, publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path, help="the run's results/ folder")
    parser.add_argument("target", type=Path, help="published/<machine-name>")
    parser.add_argument("--command", required=True, help="the command that made the run, for the record")
    parser.add_argument("--run", default="snakemake --cores 2",
                        help="how a user runs the same list, for the note on comparing with it")
    parser.add_argument("--alone", action="store_true",
                        help="state in the note that nothing else ran on the machine during the run")
    args = parser.parse_args()
    try:
        files = publish(args.results, args.target, args.command, args.run, args.alone)
    except PublishError as error:
        sys.exit(str(error))
    print("%s: %d files" % (args.target, len(files)))


if __name__ == "__main__":
    main()
