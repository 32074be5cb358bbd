"""The built-in adversarial corpus every text model is proven on, beside the spec's own texts.

Each entry names what it exercises: the places where a Java and a Python tokenizer (or the padding
and pooling around them) part while both still give a plausible answer.
"""

from __future__ import annotations

CAFE_NFC = "caf\u00e9"  # é as one code point
CAFE_NFD = "cafe\u0301"  # e + combining acute

TEXTS: tuple[tuple[str, str], ...] = (
    ("plain", "The printer on the third floor stopped working this morning."),
    ("case", "URGENT: Password RESET needed for MixedCase@Example.com"),
    ("nfc", f"The {CAFE_NFC} menu is broken"),
    ("nfd", f"The {CAFE_NFD} menu is broken"),
    ("accents", "Crème brûlée, naïve façade, Ångström, Straße, Øresund"),
    ("cjk", "東京の会議室のプロジェクターが壊れています"),
    ("hangul", "서버가 응답하지 않습니다"),
    ("emoji zwj", "deploy failed \U0001F469\U0001F3FD\u200d\U0001F4BB again \U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"),
    ("emoji skin tones", "thanks \U0001F44D\U0001F3FB\U0001F44D\U0001F3FF \u2764\ufe0f"),
    ("rtl arabic", "مرحبا، لا يمكنني تسجيل الدخول"),
    ("rtl hebrew", "שלום, המערכת לא עובדת"),
    ("mixed scripts", "VPN доступ не работает since Monday 月曜日 \u202bمرحبا\u202c"),
    ("control and zero-width", "tab\there\u200bzero\u200cwidth\u200djoiner\ufeffbom\x07bell\x00nul"),
    ("whitespace runs", "   spaces   and\n\n\nnewlines\r\n\t\ttabs   "),
    ("empty", ""),
    ("single char", "a"),
    ("numbers and symbols", "Error 0x80070005 at 12:30 (UTC+2) - 100% CPU, $4.99/mo & <html>"),
    ("long", "The nightly build fails when the integration tests run against the staging database. " * 20),
)

# Pairs for tokenizers that take two texts (rerankers, cross-encoders): type ids and truncation of each side.
PAIRS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("pair", ("How do I reset my password?", "Open settings, choose security, then reset.")),
    ("pair unicode", (f"{CAFE_NFD} login", "東京 \U0001F469\U0001F3FD\u200d\U0001F4BB")),
    ("pair empty side", ("", "only the second text")),
    ("pair long", ("What failed overnight? " * 30, "The integration tests. " * 30)),
)
