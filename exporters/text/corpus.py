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
    ("compatibility forms", "\ufb01le \uff26\uff35\uff2c\uff2c width \u2460\u2461\u2462 \u337b"),  # fi ligature, fullwidth, circled
    ("turkish i", "\u0130stanbul \u0131l\u0131k ISPARTA i\u0307"),  # dotted capital I, dotless i
    ("stacked combining marks", "Z\u0334\u0321a\u0337l\u0338g\u0335o\u0336 text"),
    ("thai", "\u0e40\u0e0b\u0e34\u0e23\u0e4c\u0e1f\u0e40\u0e27\u0e2d\u0e23\u0e4c\u0e44\u0e21\u0e48\u0e15\u0e2d\u0e1a"),  # no spaces
    ("devanagari", "\u0928\u092e\u0938\u094d\u0924\u0947, \u0938\u0930\u094d\u0935\u0930 \u0915\u093e\u092e \u0928\u0939\u0940\u0902"),
    ("very long word", "a" * 150 + " end"),  # past WordPiece's 100 characters per word
    ("url and email", "see https://example.com/a?b=c&d=e#f or mail ops+alerts@example.org"),
    ("math and currency", "\u2211x\u00b2 \u2264 \u221e \u2014 \u20ac5 \u00a5300 \u00a32 \u20b910"),
    ("long", "The nightly build fails when the integration tests run against the staging database. " * 20),
)

# Pairs for tokenizers that take two texts (rerankers, cross-encoders): type ids and truncation of each side.
PAIRS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("pair", ("How do I reset my password?", "Open settings, choose security, then reset.")),
    ("pair unicode", (f"{CAFE_NFD} login", "東京 \U0001F469\U0001F3FD\u200d\U0001F4BB")),
    ("pair empty side", ("", "only the second text")),
    ("pair long", ("What failed overnight? " * 30, "The integration tests. " * 30)),
)
