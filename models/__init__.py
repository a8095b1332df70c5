"""Classifiers behind one interface, checkpoints, and inference.

from models import load, predict, classify_article
clf = load("runs/baseline")
clf.predict(["Beijing vowed to retaliate."])
"""

from models.base import Classifier, Prediction
from models.inference import ClassifiedSentence, classify_article, load, predict

__all__ = ["ClassifiedSentence", "Classifier", "Prediction", "classify_article", "load", "predict"]
