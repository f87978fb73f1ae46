"""A tiny causal LM and tokenizer built offline, for tests that need a real model/tokenizer.

``tiny_tokenizer(corpus)`` trains a small byte-level BPE on ``corpus`` (any text, e.g. the
prompts of a staged task) and wraps it in a ``PreTrainedTokenizerFast`` with a simple chat
template; ``tiny_model(tokenizer)`` builds a 2-layer ``LlamaForCausalLM`` (hidden size 64).
Both take well under a second and need no network.
"""

from __future__ import annotations

from typing import Iterable

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + eos_token }}{% endgeneration %}"
    "{% else %}{{ message['content'] + '\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def tiny_tokenizer(corpus: Iterable[str] = (), vocab_size: int = 512):
    """A byte-level BPE tokenizer trained on ``corpus`` (plus a little fixed text)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<pad>", "<s>", "</s>", "<unk>", "<|user|>", "<|assistant|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    base = ["Input: Output: Case1: Case2: Case3: Please learn from the few-shot cases."]
    tok.train_from_iterator(list(base) + list(corpus), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_model(tokenizer, *, hidden_size: int = 64, layers: int = 2, seed: int = 0):
    """A randomly initialised 2-layer Llama sized for ``tokenizer``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    return LlamaForCausalLM(cfg)
