"""Classifier heads fitted on pooled features, following scikit-learn's estimator contract."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from comp._lazy import lazy_import

keras = lazy_import("keras")


class InferenceLayers:
    """A fitted head seen as the dense layers it applies when predicting, for class activation maps and exports.

    Each head implements ``inference_layers()``: (kernel, bias, activation) per dense layer, on the raw features.
    """

    def linear_weights(self) -> tuple[np.ndarray, float] | None:
        """(weights, bias) on the raw features with P(class 1) = sigmoid(features @ weights + bias); None when a
        hidden layer makes the head non-linear."""
        layers = self.inference_layers()
        if len(layers) != 1:
            return None
        kernel, bias, _ = layers[0]
        return kernel[:, 0], float(bias[0])

    def as_keras(self, name: str):
        """The fitted head for prediction as a Keras model named ``name`` (features -> P(class 1)), for exports."""
        layers = self.inference_layers()
        features = keras.Input((layers[0][0].shape[0],), name=f"{name}_features")
        hidden = features
        for index, (kernel, bias, activation) in enumerate(layers):
            dense = keras.layers.Dense(kernel.shape[1], activation=activation, name=f"{name}_dense{index}")
            hidden = dense(hidden)
            dense.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
        return keras.Model(features, hidden, name=name)


class LogisticHead(InferenceLayers):
    """Standardised features -> L2 logistic regression; the strong cheap baseline on bottleneck features.

    Fitting uses one BLAS thread: L-BFGS makes many small matrix-vector products, and waking a BLAS thread pool for
    each cost more than the arithmetic (a 5-fold trial on SqueezeNet features: 1.2 s pooled, 0.11 s; `make bench`).
    """

    def __init__(self, *, C: float = 1.0, max_iter: int = 2000):
        self.C = C
        self.max_iter = max_iter

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "LogisticHead":
        self.pipeline_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter))
        with threadpool_limits(limits=1, user_api="blas"):
            self.pipeline_.fit(features, labels)
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """P(class 1) per row."""
        return self.pipeline_.predict_proba(features)[:, 1]

    def inference_layers(self) -> list[tuple[np.ndarray, np.ndarray, str]]:
        """The one sigmoid layer on the raw features, the standardisation folded in (see ``InferenceLayers``)."""
        scaler, logistic = self.pipeline_[0], self.pipeline_[-1]
        weights = logistic.coef_[0] / scaler.scale_
        bias = logistic.intercept_[0] - weights @ scaler.mean_
        return [(weights[:, None], np.array([bias]), "sigmoid")]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "head.pkl").write_bytes(pickle.dumps(self.pipeline_))

    @classmethod
    def load(cls, directory: Path) -> "LogisticHead":
        head = cls()
        head.pipeline_ = pickle.loads((directory / "head.pkl").read_bytes())
        return head


class DenseHead(InferenceLayers):
    """The seed's Keras head: dropout -> (optional hidden ReLU layer) -> dense sigmoid, Adam, optional L2.

    ``standardize`` adds a Normalization layer adapted on the training rows (off in the seed recipe).

    With ``patience`` set, an inner stratified split of the training rows (``validation_fraction``) drives
    early stopping, so the fold's held-out rows stay unseen and its OOF score stays honest.
    """

    def __init__(self, *, dropout: float = 0.5, hidden_units: int = 0, l2: float = 0.0, learning_rate: float = 1e-3,
                 epochs: int = 10, batch_size: int = 128, patience: int | None = None,
                 validation_fraction: float = 0.1, standardize: bool = False, seed: int = 0):
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
        probability = keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=regulariser,
                                         name="probability")(hidden)
        model = keras.Model(features, probability, name="dense_head")
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="binary_crossentropy")
        return model

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "DenseHead":
        keras.utils.set_random_seed(self.seed)
        features = np.asarray(features, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.float32)
        callbacks, validation = [], None
        if self.patience:
            features, valid_features, labels, valid_labels = train_test_split(
                features, labels, test_size=self.validation_fraction, stratify=labels, random_state=self.seed)
            validation = (valid_features, valid_labels)
            callbacks.append(keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True))
        self.model_ = self._build(features)
        history = self.model_.fit(features, labels, epochs=self.epochs, batch_size=self.batch_size,
                                  validation_data=validation, callbacks=callbacks, shuffle=True, verbose=0)
        self.history_ = {name: [float(value) for value in values] for name, values in history.history.items()}
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """P(class 1) per row."""
        return self.model_.predict(np.asarray(features, dtype=np.float32), batch_size=1024, verbose=0)[:, 0]

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

    @classmethod
    def load(cls, directory: Path) -> "DenseHead":
        head = cls()
        head.model_ = keras.models.load_model(directory / "head.keras")
        return head
