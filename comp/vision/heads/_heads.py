"""Heads fitted on pooled features for every task type, following scikit-learn's estimator contract.

Predictions: binary (n,) P(class 1); multiclass (n, K) class probabilities; multilabel (n, K) label
probabilities; regression (n,) values.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from comp._lazy import lazy_import
from comp.compiling import compile_model
from comp.errors import CompError
from comp.io import write_json
from comp.tasks import KINDS

keras = lazy_import("keras")


class InferenceLayers:
    """A fitted head seen as the dense layers it applies when predicting, for class activation maps and exports.

    Each head implements ``inference_layers()``: (kernel, bias, activation) per dense layer, on the raw features.
    """

    def linear_weights(self) -> tuple[np.ndarray, float | np.ndarray] | None:
        """The head's one linear layer on the raw features: (weights (d,), bias) when it has one output (binary:
        P(class 1) = sigmoid(features @ weights + bias)), (kernel (d, K), bias (K,)) with K outputs; None when a
        hidden layer makes the head non-linear."""
        layers = self.inference_layers()
        if len(layers) != 1:
            return None
        kernel, bias, _ = layers[0]
        return (kernel[:, 0], float(bias[0])) if kernel.shape[1] == 1 else (kernel, bias)

    def as_keras(self, name: str):
        """The fitted head for prediction as a Keras model named ``name`` (features -> its prediction), for exports."""
        layers = self.inference_layers()
        features = keras.Input((layers[0][0].shape[0],), name=f"{name}_features")
        hidden = features
        for index, (kernel, bias, activation) in enumerate(layers):
            dense = keras.layers.Dense(kernel.shape[1], activation=activation, name=f"{name}_dense{index}")
            hidden = dense(hidden)
            dense.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
        return keras.Model(features, hidden, name=name)


def check_task(task: str, n_outputs: int) -> None:
    """A ValueError for an unknown task type or an output count that does not fit it."""
    if task not in KINDS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(KINDS)}")
    if (task in ("binary", "regression")) != (n_outputs == 1):
        raise ValueError(f"a {task} head has {'one output' if task in ('binary', 'regression') else 'K >= 2 outputs'},"
                         f" not {n_outputs}")


def full_class_columns(probabilities: np.ndarray, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """(n, n_classes) probabilities from a classifier that saw only ``classes`` (the other columns stay 0)."""
    full = np.zeros((len(probabilities), n_classes))
    full[:, np.asarray(classes, dtype=int)] = probabilities
    return full


class PerLabelLogistic(BaseEstimator):
    """One L2 logistic regression per column of a 0/1 label matrix (n, K); a label constant in the training rows is
    predicted at its training frequency."""

    def __init__(self, *, C: float = 1.0, max_iter: int = 2000):
        self.C = C
        self.max_iter = max_iter

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "PerLabelLogistic":
        labels = np.asarray(labels)
        self.coef_ = np.zeros((labels.shape[1], features.shape[1]))
        self.intercept_ = np.zeros(labels.shape[1])
        for column in range(labels.shape[1]):
            if len(np.unique(labels[:, column])) < 2:
                share = np.clip(labels[:, column].mean(), 1e-6, 1 - 1e-6)
                self.intercept_[column] = np.log(share / (1 - share))
                continue
            model = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(features, labels[:, column])
            self.coef_[column], self.intercept_[column] = model.coef_[0], model.intercept_[0]
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        return expit(features @ self.coef_.T + self.intercept_)  # no overflow warning on large logits


class LogisticHead(InferenceLayers):
    """Standardised features -> an L2 linear model: logistic regression (binary), multinomial logistic regression
    (multiclass), one logistic regression per label (multilabel), ridge regression with alpha = 1 / C (regression);
    the strong cheap baseline on bottleneck features.

    Fitting uses one BLAS thread: L-BFGS makes many small matrix-vector products, and waking a BLAS thread pool for
    each cost more than the arithmetic (a 5-fold trial on SqueezeNet features: 1.2 s pooled, 0.11 s; `make bench`).
    """

    def __init__(self, *, C: float = 1.0, max_iter: int = 2000, task: str = "binary", n_outputs: int = 1):
        self.C = C
        self.max_iter = max_iter
        self.task = task
        self.n_outputs = n_outputs

    def _estimator(self):
        if self.task == "regression":
            return Ridge(alpha=1.0 / self.C)
        if self.task == "multilabel":
            return PerLabelLogistic(C=self.C, max_iter=self.max_iter)
        return LogisticRegression(C=self.C, max_iter=self.max_iter)

    def fit(self, features: np.ndarray, targets: np.ndarray) -> "LogisticHead":
        check_task(self.task, self.n_outputs)
        self.pipeline_ = make_pipeline(StandardScaler(), self._estimator())
        with threadpool_limits(limits=1, user_api="blas"):
            self.pipeline_.fit(features, targets)
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """The task's prediction per row: (n,) P(class 1) or values; (n, K) class or label probabilities."""
        if self.task == "regression":
            return self.pipeline_.predict(features)
        probabilities = self.pipeline_.predict_proba(features)
        if self.task == "binary":
            return probabilities[:, 1]
        if self.task == "multiclass":
            return full_class_columns(probabilities, self.pipeline_[-1].classes_, self.n_outputs)
        return probabilities

    def inference_layers(self) -> list[tuple[np.ndarray, np.ndarray, str]]:
        """The one dense layer on the raw features, the standardisation folded in (see ``InferenceLayers``):
        sigmoid (binary, multilabel), softmax (multiclass) or linear (regression)."""
        scaler, model = self.pipeline_[0], self.pipeline_[-1]
        coefficients = np.atleast_2d(model.coef_)  # (outputs, d)
        intercepts = np.atleast_1d(model.intercept_)
        if self.task == "multiclass":
            if len(model.classes_) != self.n_outputs:
                raise CompError(f"the multinomial head saw {len(model.classes_)} of {self.n_outputs} classes; "
                                f"it cannot be exported as one softmax layer")
            coefficients = coefficients[np.argsort(model.classes_)]
            intercepts = intercepts[np.argsort(model.classes_)]
        weights = (coefficients / scaler.scale_).T  # (d, outputs)
        bias = intercepts - scaler.mean_ @ weights
        activation = {"binary": "sigmoid", "multilabel": "sigmoid", "multiclass": "softmax",
                      "regression": "linear"}[self.task]
        return [(weights, bias, activation)]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "head.pkl").write_bytes(pickle.dumps({"task": self.task, "n_outputs": self.n_outputs,
                                                           "pipeline": self.pipeline_}))

    @classmethod
    def load(cls, directory: Path) -> "LogisticHead":
        saved = pickle.loads((directory / "head.pkl").read_bytes())
        if not isinstance(saved, dict):  # runs saved before heads knew task types were binary
            saved = {"task": "binary", "n_outputs": 1, "pipeline": saved}
        head = cls(task=saved["task"], n_outputs=saved["n_outputs"])
        head.pipeline_ = saved["pipeline"]
        return head


OUTPUT_LAYERS = {  # task -> (activation of the output layer, loss)
    "binary": ("sigmoid", "binary_crossentropy"),
    "multiclass": ("softmax", "sparse_categorical_crossentropy"),
    "multilabel": ("sigmoid", "binary_crossentropy"),
    "regression": ("linear", "mean_squared_error"),
}


def grouped_split(targets: np.ndarray, groups: np.ndarray, fraction: float, seed: int, stratify: bool):
    """(training rows, validation rows) with every row of a group on the same side: the views of one image never
    straddle an early-stopping split. Groups are stratified by their first row's target when ``stratify``."""
    unique_groups, first_row = np.unique(groups, return_index=True)
    group_targets = targets[first_row] if stratify else None
    train_groups, valid_groups = train_test_split(unique_groups, test_size=fraction, stratify=group_targets,
                                                  random_state=seed)
    valid = np.isin(groups, valid_groups)
    return np.flatnonzero(~valid), np.flatnonzero(valid)


class DenseHead(InferenceLayers):
    """The seed's Keras head: dropout -> (optional hidden ReLU layer) -> the task's output layer (sigmoid, softmax,
    K sigmoids or linear) with its loss, Adam, optional L2.

    ``standardize`` adds a Normalization layer adapted on the training rows (off in the seed recipe).

    With ``patience`` set, an inner split of the training rows (``validation_fraction``, stratified for classes)
    drives early stopping, so the fold's held-out rows stay unseen and its OOF score stays honest; with ``groups``
    given to ``fit`` (the image of each row, when rows are views), the split keeps each image's views together.
    """

    def __init__(self, *, dropout: float = 0.5, hidden_units: int = 0, l2: float = 0.0, learning_rate: float = 1e-3,
                 epochs: int = 10, batch_size: int = 128, patience: int | None = None,
                 validation_fraction: float = 0.1, standardize: bool = False, seed: int = 0, task: str = "binary",
                 n_outputs: int = 1):
        self.dropout = dropout
        self.hidden_units = hidden_units
        self.l2 = l2
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.standardize = standardize
        self.seed = seed
        self.task = task
        self.n_outputs = n_outputs

    def _build(self, training_features: np.ndarray):
        regulariser = keras.regularizers.L2(self.l2) if self.l2 else None
        features = keras.Input((training_features.shape[1],), name="features")
        hidden = features
        if self.standardize:
            normalization = keras.layers.Normalization(name="standardize")
            normalization.adapt(training_features)
            hidden = normalization(hidden)
        hidden = keras.layers.Dropout(self.dropout, seed=self.seed, name="dropout")(hidden)
        if self.hidden_units:
            hidden = keras.layers.Dense(self.hidden_units, activation="relu", kernel_regularizer=regulariser,
                                        name="hidden")(hidden)
            hidden = keras.layers.Dropout(self.dropout, seed=self.seed + 1, name="hidden_dropout")(hidden)
        activation, loss = OUTPUT_LAYERS[self.task]
        probability = keras.layers.Dense(self.n_outputs, activation=activation, kernel_regularizer=regulariser,
                                         name="probability")(hidden)
        model = keras.Model(features, probability, name="dense_head")
        return compile_model(model, optimizer=keras.optimizers.Adam(self.learning_rate), loss=loss)

    def fit(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray | None = None) -> "DenseHead":
        check_task(self.task, self.n_outputs)
        keras.utils.set_random_seed(self.seed)
        features = np.asarray(features, dtype=np.float32)
        targets = np.asarray(targets, dtype=np.int64 if self.task == "multiclass" else np.float32)
        callbacks, validation = [], None
        if self.patience:
            stratify = self.task in ("binary", "multiclass")
            if groups is None or len(np.unique(groups)) == len(groups):
                features, valid_features, targets, valid_targets = train_test_split(
                    features, targets, test_size=self.validation_fraction, stratify=targets if stratify else None,
                    random_state=self.seed)
            else:
                train_rows, valid_rows = grouped_split(targets, np.asarray(groups), self.validation_fraction,
                                                       self.seed, stratify)
                features, valid_features = features[train_rows], features[valid_rows]
                targets, valid_targets = targets[train_rows], targets[valid_rows]
            validation = (valid_features, valid_targets)
            callbacks.append(keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True))
        self.model_ = self._build(features)
        history = self.model_.fit(features, targets, epochs=self.epochs, batch_size=self.batch_size,
                                  validation_data=validation, callbacks=callbacks, shuffle=True, verbose=0)
        self.history_ = {name: [float(value) for value in values] for name, values in history.history.items()}
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """The task's prediction per row: (n,) P(class 1) or values; (n, K) class or label probabilities."""
        output = self.model_.predict(np.asarray(features, dtype=np.float32), batch_size=1024, verbose=0)
        return output[:, 0] if self.n_outputs == 1 else output

    def inference_layers(self) -> list[tuple[np.ndarray, np.ndarray, str]]:
        """(kernel, bias, activation) of each dense layer for prediction: the standardisation folded into the first
        one and dropout left out (it is the identity when predicting)."""
        dimension = self.model_.input_shape[-1]
        mean, scale, layers = np.zeros(dimension), np.ones(dimension), []
        for layer in self.model_.layers:
            if isinstance(layer, keras.layers.Normalization):
                mean = np.reshape(keras.ops.convert_to_numpy(layer.mean), -1)
                scale = np.maximum(np.sqrt(np.reshape(keras.ops.convert_to_numpy(layer.variance), -1)),
                                   keras.config.epsilon())
            elif isinstance(layer, keras.layers.Dense):
                kernel, bias = layer.get_weights()
                layers.append((kernel, bias, keras.activations.serialize(layer.activation)))
        kernel, bias, activation = layers[0]
        layers[0] = (kernel / scale[:, None], bias - (mean / scale) @ kernel, activation)
        return layers

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.model_.save(directory / "head.keras")
        write_json(directory / "head.json", {"task": self.task, "n_outputs": self.n_outputs})

    @classmethod
    def load(cls, directory: Path) -> "DenseHead":
        described = directory / "head.json"  # absent in runs saved before heads knew task types: binary
        head = cls(**(json.loads(described.read_text()) if described.exists() else {}))
        head.model_ = keras.models.load_model(directory / "head.keras")
        return head
