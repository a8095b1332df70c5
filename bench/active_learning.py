"""Does `parley suggest` pick better sentences to label than chance? A simulation on the corpus.

The corpus train split is the unlabelled pool (its gold labels are revealed only for the
sentences a strategy picks); both strategies start from the same random 200 labels, add 200 per
round, retrain the baseline and score macro-F1 on the dev split.

    python bench/active_learning.py --rounds 8 --output docs/active_learning.png
"""

import argparse
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def fit(rows: list[dict], seed: int):
    from models.baseline import BaselineClassifier
    from train.config import BaselineModel

    params = {**BaselineModel(kind="baseline").model_dump(mode="json"), "seed": seed}
    return BaselineClassifier(params).fit([r["text"] for r in rows], [r["label"] for r in rows])


def dev_macro_f1(model, dev: list[dict]) -> float:
    from sklearn.metrics import f1_score

    predicted = [p.label for p in model.predict([r["text"] for r in dev])]
    return float(f1_score([r["label"] for r in dev], predicted, average="macro"))


def simulate(
    pool: list[dict], dev: list[dict], strategy: str, rounds: int, step: int, seed: int
) -> list[tuple[int, float]]:
    from train.suggest import suggest

    rng = random.Random(seed)
    order = list(range(len(pool)))
    rng.shuffle(order)
    labelled = set(order[:step])
    curve = []
    for _ in range(rounds + 1):
        model = fit([pool[i] for i in sorted(labelled)], seed)
        curve.append((len(labelled), dev_macro_f1(model, dev)))
        unlabelled = [i for i in order if i not in labelled]
        if strategy == "random":
            picked = unlabelled[:step]
        else:
            rows = [
                {**{k: pool[i][k] for k in ("text", "doc_id")}, "pool_index": i}
                for i in unlabelled
            ]  # the label stays hidden from the strategy
            picked = [
                r["pool_index"] for r in suggest(model, rows, step, per_article=5, seed=seed)
            ]
        labelled.update(picked)
        print(
            f"{strategy:<11} {curve[-1][0]:>5} labels  dev macro-F1 {curve[-1][1]:.4f}",
            file=sys.stderr,
        )
    return curve


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    for name, curve in curves.items():
        ax.plot(*zip(*curve, strict=True), marker="o", label=name)
    ax.set_xlabel("labelled sentences")
    ax.set_ylabel("dev macro-F1 (baseline)")
    ax.set_title("Labels chosen by parley suggest vs at random")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    from data.build import read_split

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="runs/datasets/corpus")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--step", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--output", default="docs/active_learning.png")
    args = parser.parse_args()
    pool, dev = read_split(args.data, "train"), read_split(args.data, "dev")
    curves = {
        s: simulate(pool, dev, s, args.rounds, args.step, args.seed)
        for s in ("uncertainty", "random")
    }
    plot(curves, Path(args.output))
    Path(args.output).with_suffix(".json").write_text(json.dumps(curves, indent=2) + "\n")
    print("| labels | " + " | ".join(curves) + " |\n|---:|" + "---:|" * len(curves))
    for i, (n, _) in enumerate(curves["random"]):
        print(f"| {n} | " + " | ".join(f"{curves[s][i][1]:.3f}" for s in curves) + " |")


if __name__ == "__main__":
    main()
