"""``python -m competitions.pathology PREDICTED_DIR TRUTH_DIR``: pixel F1 (with precision and recall) and the GlaS
object F1, object Dice and object Hausdorff of a folder of masks against the truth."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from comp.errors import CompError
from competitions.pathology.folder_objects import object_scores_of_folders
from competitions.pathology.scoring import score_mask_folders


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: print the scores of PREDICTED_DIR against TRUTH_DIR as one line of JSON."""
    parser = argparse.ArgumentParser(prog="python -m competitions.pathology",
                                     description="pixel F1 and object F1/Dice/Hausdorff of predicted 0/255 PNG "
                                                 "masks against truth masks (objects: ../labels/*.svg outlines "
                                                 "beside the truth folder when present)")
    parser.add_argument("predicted_dir", type=Path)
    parser.add_argument("truth_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        scores = score_mask_folders(args.predicted_dir, args.truth_dir)
        print(json.dumps({**scores, **object_scores_of_folders(args.predicted_dir, args.truth_dir)}))
    except CompError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
