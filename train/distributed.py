"""Data-parallel training through Hugging Face accelerate.

`parley train CONFIG --launcher accelerate --processes N` re-runs the same command under
`accelerate launch`, which starts N processes (one per GPU, or N CPU processes talking over gloo
where there is no GPU). Each process then finds itself in a distributed context here, trains on
its share of every batch, and only the main process writes states and the checkpoint.

The split of work is chosen so that N processes compute the same gradient as one process: every
process draws the same global batches (same seed), takes every N-th sentence of each, and scales
its summed loss by the global batch's total weight; DDP's gradient average then equals the
single-process gradient of the weighted mean loss.
"""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

LAUNCHED_ENV = "PARLEY_LAUNCHED"  # set for processes started by `--launcher accelerate`


def world_size_from_env() -> int:
    """How many processes the launcher started (1 outside a launcher)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def process_rank() -> int:
    """This process's rank under a launcher (0 outside one)."""
    return int(os.environ.get("RANK", "0"))


def accelerator_or_none():
    """An `accelerate.Accelerator` when this process is one of several, else None.

    Created only under a launcher, so a plain single-process run never imports accelerate."""
    if world_size_from_env() <= 1:
        return None
    import torch
    from accelerate import Accelerator

    # Without a GPU, accelerate needs cpu=True to run the processes as one gloo group; otherwise
    # each would silently train alone.
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    if accelerator.num_processes != world_size_from_env():
        raise RuntimeError(
            f"launched {world_size_from_env()} processes but accelerate formed a group of "
            f"{accelerator.num_processes}"
        )
    return accelerator


def is_main(accelerator) -> bool:
    return accelerator is None or accelerator.is_main_process


def wait_for_everyone(accelerator) -> None:
    if accelerator is not None:
        accelerator.wait_for_everyone()


@contextmanager
def main_process_first(accelerator):
    """Let the main process build shared caches (dataset, tokenised Arrow) before the others."""
    if accelerator is None:
        yield
    else:
        with accelerator.main_process_first():
            yield


def shard(batch: list[int], rank: int, world: int) -> list[int]:
    """This process's share of a global batch: every `world`-th item from `rank`."""
    return batch[rank::world]


def launch_command(train_args: list[str], processes: int) -> list[str]:
    """The `accelerate launch` command line that runs `parley <train_args>` in N processes.

    `--multi_gpu` is accelerate's flag for multi-process data parallelism; on a machine without a
    GPU it runs the processes on CPU with the gloo backend."""
    if processes < 2:
        raise ValueError(f"--launcher accelerate needs --processes of at least 2, got {processes}")
    accelerate = Path(sys.executable).with_name("accelerate")
    if not accelerate.is_file():
        raise ValueError("--launcher accelerate needs accelerate: pip install -e '.[distributed]'")
    return [
        str(accelerate),
        "launch",
        "--multi_gpu",
        "--num_processes",
        str(processes),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "-m",
        "train.cli",
        *train_args,
    ]
