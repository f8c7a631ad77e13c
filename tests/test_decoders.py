"""Decoder-only classifiers: padding their tokenizers lack, theta_0 in the model's dtype."""

import pandas as pd
import pytest
import torch
from intdim.method.models import prepare_padding
from intdim.method.subspace import SubspaceModel, SubspaceSettings
from intdim.method.training import collate, encode
from tiny_models import tiny_batch, tiny_classifier
from transformers import AutoModelForSequenceClassification, GPT2Config, PreTrainedTokenizerFast

TEXTS = ["a short one", "a somewhat longer sentence than the first", "mid length text"]


@pytest.fixture(scope="module")
def gpt2_tokenizer():
    """A byte-level BPE tokenizer in GPT-2's shape: an EOS token and no pad token."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(TEXTS * 20, vocab_size=300, special_tokens=["<|endoftext|>"],
                            show_progress=False)  # fmt: skip
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>")
    assert tokenizer.pad_token is None
    return tokenizer


def test_a_decoder_batch_padded_with_eos_scores_each_text_as_alone(gpt2_tokenizer):
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(gpt2_tokenizer), n_embd=16, n_layer=2, n_head=2,
                        n_positions=64, num_labels=2)  # fmt: skip
    model = AutoModelForSequenceClassification.from_config(config).eval()
    assert model.config.pad_token_id is None
    prepare_padding(gpt2_tokenizer, model)
    assert gpt2_tokenizer.pad_token == "<|endoftext|>"
    assert model.config.pad_token_id == gpt2_tokenizer.eos_token_id
    frame = pd.DataFrame({"text": TEXTS, "text_pair": "", "label": [0, 1, 0]})
    examples = encode(gpt2_tokenizer, frame, max_length=32)
    batch = collate(gpt2_tokenizer, examples, "cpu")
    assert (batch["input_ids"] == gpt2_tokenizer.pad_token_id).any()  # it was padded
    with torch.no_grad():
        together = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).logits
        for i, example in enumerate(examples):
            alone = collate(gpt2_tokenizer, [example], "cpu")
            logits = model(
                input_ids=alone["input_ids"], attention_mask=alone["attention_mask"]
            ).logits
            torch.testing.assert_close(together[i], logits[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "family,backend", [("gpt2", "torch"), ("llama", "torch"), ("llama", "triton")]
)
def test_theta0_in_bf16_with_float32_trainables(family, backend):
    """theta_0 stored in the model's dtype (half the memory in bf16); theta_d, the SAID scales
    and the projection's arithmetic stay float32."""
    if backend == "triton":
        pytest.importorskip("triton")
    model = tiny_classifier(family).to(torch.bfloat16)
    reference = model(**tiny_batch()).logits
    settings = SubspaceSettings(200, method="said", seed=1, grouping="layer", backend=backend)
    sub = SubspaceModel(model, settings)
    assert sub.theta0.dtype == torch.bfloat16 and sub.theta0.element_size() == 2
    assert sub.theta_d.dtype == torch.float32 and sub.lambdas.dtype == torch.float32
    assert torch.equal(sub(**tiny_batch()).logits, reference)  # identity at theta_d = 0
    with torch.no_grad():
        sub.theta_d.normal_()
    loss = sub(**tiny_batch(), labels=torch.tensor([0, 1, 2])).loss
    loss.backward()
    assert sub.theta_d.grad.dtype == torch.float32 and torch.isfinite(sub.theta_d.grad).all()
    assert sub.theta_d.grad.abs().sum() > 0 and sub.lambdas.grad.abs().sum() > 0
