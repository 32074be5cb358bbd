"""Train a tokenizer from text kept in the repository: the zoo's and the tests' tokenizers (no hub download).

`python -m exporters.text.train` writes exporters/text/data/wordpiece.json, the zoo encoder's tokenizer. The
`tokenizers` trainers are not deterministic across runs (ties between equally frequent merges fall in hash order),
so the zoo keeps the file it trained rather than training at each build: a model's fingerprint must not move.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

DATA = Path(__file__).with_name("data")
TRAINING_TEXT = DATA / "training.txt"
ZOO_TOKENIZER = DATA / "wordpiece.json"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def lines(path: Path = TRAINING_TEXT) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wordpiece(text: list[str], vocab_size: int = 2000) -> Tokenizer:
    """A BERT-style uncased WordPiece: lower-cased, accents stripped, CJK split per character, [CLS] a [SEP] b [SEP]."""
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True,
                                                      handle_chinese_chars=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(text, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                                                   show_progress=False))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tokenizer.decoder = decoders.WordPiece()
    return tokenizer


def bpe(text: list[str], vocab_size: int = 1000) -> Tokenizer:
    """A RoBERTa-style byte-level BPE: NFC, no lower-casing, <s> a </s></s> b </s>, pad <pad> (id 1)."""
    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.train_from_iterator(text, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                            show_progress=False))
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", tokenizer.token_to_id("</s>")),
                                                            ("<s>", tokenizer.token_to_id("<s>")))
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


if __name__ == "__main__":
    wordpiece(lines()).save(str(ZOO_TOKENIZER))
    print(f"wrote {ZOO_TOKENIZER}")
