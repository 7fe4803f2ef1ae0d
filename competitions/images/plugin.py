"""``images``: any standard image-classification competition with no code (binary, multi-class, multi-label,
regression), read from Kaggle's usual layouts; the shared ``comp.vision.ImageClassificationCompetition`` does the rest."""

from __future__ import annotations

import logging
from pathlib import Path

from comp import Dataset, register_competition
from comp.metrics import Metric, get_metric
from comp.vision import ImageClassificationCompetition
from competitions.images.demo import DEMO_TASKS, write_demo
from competitions.images.reader import read_images

logger = logging.getLogger("comp.images")


@register_competition
class ImagesCompetition(ImageClassificationCompetition):
    name = "images"
    title = "Any image classification (binary, multi-class, multi-label, regression) from Kaggle's layouts"
    metric: Metric = get_metric("multi_logloss")  # replaced by the metric read from the data (see ``read``)
    demo_size = 96
    demo_tasks = DEMO_TASKS
    demo_flags = {"backbones": ["squeezenet1_1"], "weights": {"squeezenet1_1": "none"}, "trials": 2, "folds": 3,
                  "heads": ["logistic"]}

    def read(self, data_dir: Path, config: dict) -> Dataset:
        """The layout of ``data_dir``, with the task, metric and submission format inferred (and printed)."""
        layout = read_images(data_dir, config)
        options = {"beta": float(config.get("beta", 2.0))} if layout.metric == "fbeta_samples" else {}
        self.metric = get_metric(layout.metric, **options)  # the data's metric: the engine reads it after this hook
        logger.info("images: %s", layout.explanation)
        return Dataset(data_dir=Path(data_dir), train=layout.train, test=layout.test,
                       sample_submission=layout.sample_submission, task=layout.task, targets=layout.targets,
                       inputs={"submission_columns": layout.submission_columns,
                               "probability_columns": layout.probability_columns})

    def demo(self, out_dir: Path, n: int, seed: int, task: str = "multiclass") -> Path:
        return write_demo(out_dir, n=n, seed=seed, task=task)
