"""The label schema: defined here once, and every probability column in parley follows it."""

# Order matters: index i of every score vector is LABELS[i]. Precedence when a sentence holds
# several acts is a different order (see PRECEDENCE); never reorder LABELS without bumping
# SCHEMA_VERSION, because saved checkpoints are checked against it on load.
LABELS: tuple[str, ...] = ("claim", "threat", "demand", "concession", "other")
SCHEMA_VERSION = "1.0"

# The spec's rule for a sentence with several acts: the first that applies wins.
PRECEDENCE: tuple[str, ...] = ("threat", "concession", "demand", "claim", "other")

# The negotiation acts proper; `other` is the absence of an act.
ACTS: tuple[str, ...] = ("claim", "threat", "demand", "concession")

LABEL_TO_ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}


class LabelError(ValueError):
    """A label that is not in the schema."""


def check_label(label: object) -> str:
    """Return `label` if it is a schema label, else raise LabelError naming it and the schema."""
    if not isinstance(label, str) or label not in LABEL_TO_ID:
        raise LabelError(f"unknown label {label!r}; expected one of {', '.join(LABELS)}")
    return label


def check_label_list(labels: list[str], where: str) -> None:
    """Raise if a saved label list differs from the schema (the columns would be misread)."""
    if tuple(labels) != LABELS:
        raise LabelError(
            f"{where}: label order {list(labels)} does not match schema {list(LABELS)} "
            f"(schema version {SCHEMA_VERSION})"
        )
