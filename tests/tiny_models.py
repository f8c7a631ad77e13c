"""Tiny randomly initialised sequence classifiers of every architecture family we support."""

from __future__ import annotations

import torch
from transformers import (
    AlbertConfig,
    AutoModelForSequenceClassification,
    BartConfig,
    BertConfig,
    ElectraConfig,
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
}


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
