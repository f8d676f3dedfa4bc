"""Iris species classifier trained at start-up with scikit-learn.

The Iris data set (Fisher, 1936; 150 flowers, 3 species) ships inside
scikit-learn, so `setup()` trains three small classifiers in well under a
second with no download and no weights file.
"""

from typing import Any

import numpy as np
from cog import BaseModel, BasePredictor, Input
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


class Output(BaseModel):
    species: str
    confidence: float
    # {"setosa": p, "versicolor": p, "virginica": p}
    probabilities: dict
    model: str
    # Mean 5-fold cross-validated accuracy of the chosen model on the Iris data.
    cv_accuracy: float


def _make_models() -> dict[str, Any]:
    # Fixed seeds so a restarted server gives identical predictions.
    return {
        "logistic-regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "random-forest": RandomForestClassifier(n_estimators=100, random_state=0),
        "k-nearest-neighbors": make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=7)),
    }


class Predictor(BasePredictor):
    def setup(self) -> None:
        data = load_iris()
        X, y = data.data, data.target
        self.species = [str(name) for name in data.target_names]
        self.feature_min = X.min(axis=0)
        self.feature_max = X.max(axis=0)
        self.feature_names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        self.models: dict[str, Any] = {}
        self.cv_accuracy: dict[str, float] = {}
        for name, model in _make_models().items():
            self.cv_accuracy[name] = float(cross_val_score(model, X, y, cv=folds).mean())
            self.models[name] = model.fit(X, y)  # final model uses all 150 samples
            print(f"{name}: 5-fold CV accuracy {self.cv_accuracy[name]:.3f}")

    def predict(
        self,
        sepal_length: float = Input(
            default=5.9,
            ge=3.0,
            le=9.0,
            description="Sepal length in centimetres (training data: 4.3-7.9).",
        ),
        sepal_width: float = Input(
            default=2.8,
            ge=1.5,
            le=5.0,
            description="Sepal width in centimetres (training data: 2.0-4.4).",
        ),
        petal_length: float = Input(
            default=4.3,
            ge=0.5,
            le=8.0,
            description="Petal length in centimetres (training data: 1.0-6.9).",
        ),
        petal_width: float = Input(
            default=1.3,
            ge=0.05,
            le=3.0,
            description="Petal width in centimetres (training data: 0.1-2.5).",
        ),
        model: str = Input(
            default="logistic-regression",
            choices=["logistic-regression", "random-forest", "k-nearest-neighbors"],
            description="Classifier to use. All three are trained on the full Iris data set at start-up.",
        ),
    ) -> Output:
        x = np.array([[sepal_length, sepal_width, petal_length, petal_width]])
        outside = [
            name
            for name, v, lo, hi in zip(
                self.feature_names, x[0], self.feature_min, self.feature_max, strict=True
            )
            if v < lo or v > hi
        ]
        if outside:
            print(
                f"Warning: {', '.join(outside)} outside the training range; "
                "the prediction is an extrapolation."
            )

        proba = self.models[model].predict_proba(x)[0]
        best = int(np.argmax(proba))
        return Output(
            species=self.species[best],
            confidence=round(float(proba[best]), 4),
            probabilities={
                name: round(float(p), 4) for name, p in zip(self.species, proba, strict=True)
            },
            model=model,
            cv_accuracy=round(self.cv_accuracy[model], 4),
        )
