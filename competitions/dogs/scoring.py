"""The competition's metric: Kaggle's log loss of P(dog), comp's ``log_loss``."""

from comp.metrics import get_metric

LOG_LOSS = get_metric("log_loss")
