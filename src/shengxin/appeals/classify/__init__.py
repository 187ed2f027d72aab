"""Automatic classification of appeal texts (jieba + scikit-learn) and the labelled corpus.

Public API:

* :func:`suggest` / :func:`suggest_many` — category, subcategory, responsible unit, confidence and
  alternatives for appeal texts (the model is loaded from ``<data_dir>/models/`` or trained from
  the packaged examples when none is saved);
* :func:`train`, :func:`save_model`, :func:`load_model`, :class:`Correction` — retraining with
  staff corrections;
* :func:`generate_demo_appeals` — a year of demo appeal texts with towns and timestamps.

See ``docs/appeals-classifier.md``.
"""

from shengxin.appeals.classify.corpus import Example, generate_demo_appeals, load_examples
from shengxin.appeals.classify.model import (
    Alternative,
    Correction,
    Model,
    Suggestion,
    get_model,
    load_model,
    save_model,
    suggest,
    suggest_many,
    train,
)

__all__ = [
    "Alternative", "Correction", "Example", "Model", "Suggestion", "generate_demo_appeals", "get_model",
    "load_examples", "load_model", "save_model", "suggest", "suggest_many", "train",
]
