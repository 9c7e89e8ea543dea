"""Text analyzers shared by sentiment training (as scikit-learn ``analyzer`` callables) and serving.

Pure Python, so the numpy runner and the trainer tokenise identically: word 1-2-grams (apostrophes kept
inside words, so "didn't" stays one token) and character 2-5-grams within word boundaries.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

MAX_CHARS = 5000  # longer text is truncated before scoring (speed; sentiment is set early in a message)

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower().replace("’", "'")


def words(text: str) -> list[str]:
    """Word unigrams and bigrams of an already normalised text."""
    tokens = _WORD.findall(text)
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def chars(text: str) -> list[str]:
    """Character 2-5-grams of each whitespace-separated word, padded with one space each side."""
    out: list[str] = []
    for w in text.split():
        padded = f" {w} "
        size = len(padded)
        for n in range(2, 6):
            if n > size:
                break
            out.extend(padded[i : i + n] for i in range(size - n + 1))
    return out
