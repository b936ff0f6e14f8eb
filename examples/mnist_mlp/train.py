"""A ModelArts boot file: an MLP trained on scikit-learn's bundled 8x8 digits ("mini MNIST").

Runs unchanged on ModelArts and under ``pytest --modelarts``: data comes from ``--data_url`` (a directory with
``digits.csv``: 64 pixel columns then the label), or, when that directory holds no CSV, from
``sklearn.datasets.load_digits`` (bundled with scikit-learn, nothing is downloaded). Outputs go to
``--train_url``: ``model.pkl`` and ``metrics.json``. One JSON line of metrics is printed per epoch.
"""

import argparse
import json
import os
import pickle
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_url", default="", help="input directory (the platform downloads the inputs here)")
    parser.add_argument("--train_url", default="./output", help="output directory (the platform uploads it)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64, help="units of the hidden layer")
    parser.add_argument("--learning_rate", type=float, default=0.01)
    parser.add_argument("--max_samples", type=int, default=0, help="use at most this many samples (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    args, unknown = parser.parse_known_args()  # the platform may add parameters of its own
    if unknown:
        print(f"ignoring parameters: {' '.join(unknown)}")
    return args


def load_data(data_url, max_samples, seed):
    csv = os.path.join(data_url, "digits.csv") if data_url and os.path.isdir(data_url) else data_url
    if csv and os.path.isfile(csv):
        table = np.loadtxt(csv, delimiter=",")
        x, y = table[:, :-1], table[:, -1].astype(int)
        source = csv
    else:
        x, y = load_digits(return_X_y=True)
        source = "sklearn.datasets.load_digits"
    if max_samples and max_samples < len(x):
        pick = np.random.default_rng(seed).permutation(len(x))[:max_samples]
        x, y = x[pick], y[pick]
    return x / 16.0, y, source


def main():
    args = parse_args()
    x, y, source = load_data(args.data_url, args.max_samples, args.seed)
    print(f"data: {len(x)} samples from {source}")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=args.seed, stratify=y)
    model = MLPClassifier(hidden_layer_sizes=(args.hidden,), learning_rate_init=args.learning_rate, random_state=args.seed)
    classes = np.arange(10)
    history = []
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        model.partial_fit(x_train, y_train, classes=classes)
        record = {"epoch": epoch, "loss": round(float(model.loss_), 6),
                  "accuracy": round(float(model.score(x_test, y_test)), 4)}
        history.append(record)
        print(json.dumps(record), flush=True)
    os.makedirs(args.train_url, exist_ok=True)
    with open(os.path.join(args.train_url, "model.pkl"), "wb") as fh:
        pickle.dump(model, fh)
    summary = {"epochs": args.epochs, "samples": len(x), "final": history[-1] if history else None,
               "history": history, "seconds": round(time.time() - start, 3)}
    with open(os.path.join(args.train_url, "metrics.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    print(f"saved model.pkl and metrics.json to {args.train_url}")


if __name__ == "__main__":
    main()
