"""Tiny randomly initialised sequence classifiers of every architecture family we support."""

from __future__ import annotations

import zlib

import torch
from transformers import (
    AlbertConfig,
    AutoModelForSequenceClassification,
    BartConfig,
    BertConfig,
    ElectraConfig,
    GemmaConfig,
    GPT2Config,
    LlamaConfig,
    MistralConfig,
    PhiConfig,
    Qwen2Config,
    RobertaConfig,
    T5Config,
    XLMRobertaConfig,
    XLNetConfig,
)

VOCAB = 99
_COMMON = dict(vocab_size=VOCAB, num_labels=3, pad_token_id=0)
_BERT_LIKE = dict(
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=32,
    max_position_embeddings=64,
)

# Decoder-only: grouped-query attention where the family has it (one key/value head).
_DECODER = dict(
    hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
    max_position_embeddings=64, bos_token_id=1, eos_token_id=2,
)  # fmt: skip

TINY_CONFIGS = {
    "bert": lambda: BertConfig(**_COMMON, **_BERT_LIKE),
    "roberta": lambda: RobertaConfig(**_COMMON, **_BERT_LIKE, bos_token_id=1, eos_token_id=2),
    "xlm-roberta": lambda: XLMRobertaConfig(
        **_COMMON, **_BERT_LIKE, bos_token_id=1, eos_token_id=2
    ),
    "electra": lambda: ElectraConfig(**_COMMON, **_BERT_LIKE, embedding_size=8),
    "albert": lambda: AlbertConfig(**_COMMON, **_BERT_LIKE, embedding_size=8),
    "xlnet": lambda: XLNetConfig(
        **_COMMON, d_model=16, n_layer=2, n_head=2, d_inner=32, bos_token_id=1, eos_token_id=2
    ),
    "bart": lambda: BartConfig(
        **_COMMON,
        d_model=16,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=2,
    ),
    "t5": lambda: T5Config(
        **_COMMON,
        d_model=16,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        eos_token_id=2,
        decoder_start_token_id=0,
    ),
    "gpt2": lambda: GPT2Config(
        **_COMMON, n_embd=16, n_layer=2, n_head=2, n_positions=64, bos_token_id=1, eos_token_id=2
    ),
    "llama": lambda: LlamaConfig(**_COMMON, **_DECODER, num_key_value_heads=1),
    "qwen2": lambda: Qwen2Config(**_COMMON, **_DECODER, num_key_value_heads=1),
    "mistral": lambda: MistralConfig(**_COMMON, **_DECODER, num_key_value_heads=1),
    "phi": lambda: PhiConfig(**_COMMON, **_DECODER),
    "gemma": lambda: GemmaConfig(**_COMMON, **_DECODER, num_key_value_heads=1, head_dim=8),
}
DECODERS = ("gemma", "gpt2", "llama", "mistral", "phi", "qwen2")


def layer_count(config) -> int:
    """Numbered transformer blocks of a config (encoder and decoder ones both)."""
    for names in (("encoder_layers", "decoder_layers"), ("num_layers", "num_decoder_layers")):
        if all(hasattr(config, n) for n in names):
            return sum(getattr(config, n) for n in names)
    if config.model_type == "albert":
        return config.num_hidden_groups  # its layers share one group's weights
    return getattr(config, "num_hidden_layers", None) or config.n_layer


def tiny_classifier(family: str, seed: int = 0):
    """A fresh tiny classifier of ``family`` with weights drawn from ``seed``."""
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(TINY_CONFIGS[family]())
    return model.eval()


def tiny_batch(batch: int = 3, length: int = 7, seed: int = 0) -> dict[str, torch.Tensor]:
    """Token ids that end in an EOS token (BART's and T5's heads pool at the last EOS)."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, VOCAB, (batch, length), generator=gen)
    ids[:, -1] = 2
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


class TinyTokenizer:
    """What training asks of a tokenizer, for the tiny models: five ids a text, from its crc32
    (the same ids in every process), and padding that stacks them."""

    def __call__(self, texts, pairs, truncation, max_length, padding):
        ids = [[1 + (zlib.crc32(t.encode()) + i) % (VOCAB - 9) for i in range(5)] for t in texts]
        return {"input_ids": ids, "attention_mask": [[1] * 5 for _ in ids]}

    def pad(self, examples, return_tensors):
        return {k: torch.tensor([e[k] for e in examples]) for k in examples[0]}
