"""ONNX Runtime inference for exported transformer checkpoints, and the export itself.

`export_onnx` writes `model/onnx/model.onnx` (fp32, from torch.onnx.export) and
`model/onnx/model.int8.onnx` (ONNX Runtime dynamic int8 quantisation). The caller decides
whether the int8 model may stay (parity with torch on the dev split); `OnnxClassifier` prefers
the int8 file when present.
"""

import os
import shutil
from pathlib import Path

import numpy as np

from models.base import Classifier
from models.transformer import ONNX_DIR, batched_logits, load_encoder

FP32 = "model.onnx"
INT8 = "model.int8.onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxClassifier(Classifier):
    kind = "transformer"
    backend = "onnx"

    def __init__(
        self,
        session,
        tokenizer,
        max_length: int,
        batch_size: int = 64,
        temperature: float = 1.0,
        model_file: str = INT8,
    ):
        self.session = session
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.temperature = temperature
        self.model_file = model_file
        self.input_names = {i.name for i in session.get_inputs()}

    @classmethod
    def from_folder(
        cls,
        folder: Path,
        max_length: int,
        threads: int | None,
        temperature: float,
        prefer_int8: bool = True,
    ) -> "OnnxClassifier":
        onnx_dir = folder / ONNX_DIR
        name = INT8 if prefer_int8 and (onnx_dir / INT8).is_file() else FP32
        if not (onnx_dir / name).is_file():
            raise FileNotFoundError(f"{onnx_dir}: no exported model; run `parley export`")
        return cls.from_file(onnx_dir / name, folder, max_length, threads, temperature)

    @classmethod
    def from_file(
        cls,
        model_file: Path,
        tokenizer_folder: Path,
        max_length: int,
        threads: int | None,
        temperature: float,
    ) -> "OnnxClassifier":
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        # Explicit thread counts: ORT otherwise sizes its pool to every core it can see.
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder, local_files_only=True)
        return cls(
            session, tokenizer, max_length, temperature=temperature, model_file=model_file.name
        )

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        enc = self.tokenizer.pad({"input_ids": ids}, return_tensors="np")
        feed = {
            "input_ids": enc["input_ids"].astype(np.int64),
            "attention_mask": enc["attention_mask"].astype(np.int64),
        }
        if "token_type_ids" in self.input_names:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        return self.session.run(["logits"], feed)[0]

    def _logits(self, texts: list[str]) -> np.ndarray:
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        return batched_logits(ids, self.batch_size, self._run)


def _head_nodes(onnx_file: Path) -> list[str]:
    """The pooler and classifier layers: kept in fp32, since their few weights decide the
    label and quantising them costs agreement with torch for almost no speed."""
    import onnx

    graph = onnx.load(str(onnx_file), load_external_data=False).graph
    return [n.name for n in graph.node if "pooler" in n.name or "classifier" in n.name]


def quantize_int8(fp32_file: Path, int8_file: Path) -> None:
    """ONNX Runtime dynamic int8 quantisation: per-channel int8 weights, activations quantised
    on the fly, the head kept in fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32_file),
        str(int8_file),
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=_head_nodes(fp32_file),
    )


def export_onnx(model_folder: Path, opset: int = 17) -> Path:
    """Export the torch model in `model_folder` to ONNX (fp32 and dynamic int8) under
    `model_folder/onnx`, written to a temp folder first and renamed into place."""
    import torch

    model, tokenizer = load_encoder(model_folder)
    model.eval()
    model.config.return_dict = False
    sample = tokenizer(["The ministry warned of countermeasures."], return_tensors="pt")
    names = [n for n in INPUTS if n in sample]
    tmp = model_folder / f".{ONNX_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    with torch.no_grad():
        torch.onnx.export(
            model,
            tuple(sample[n] for n in names),
            str(tmp / FP32),
            dynamo=False,
            input_names=names,
            output_names=["logits"],
            opset_version=opset,
            dynamic_axes={
                **{n: {0: "batch", 1: "sequence"} for n in names},
                "logits": {0: "batch"},
            },
        )
    quantize_int8(tmp / FP32, tmp / INT8)
    final = model_folder / ONNX_DIR
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final
