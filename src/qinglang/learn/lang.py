"""Which language a post is in, for the per-language combination of rules and model.

A combination validated on English dev rows says nothing about Chinese posts (on
``telecom_fraud5_zh.jsonl`` such a combination let the model flag ordinary Chinese
messages, docs/model-quality.md). So the combination is looked up per language, and
a post's language is its declared ``lang`` when it has one, else a guess from its
raw text made here: cheap (a few regex counts, no model), and deliberately
conservative. ``None`` means "cannot tell", and a post whose language cannot be
told gets no model-alone path: the rules decide.

The guess reads the *raw* fields, not the normalized text: the normalizer turns
pinyin such as "jia wei xin" into Han characters, which would make an English post
with an evasion look Chinese.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qinglang.model import Post

#: languages the project writes examples in; other codes pass through but no combination is fitted for them
KNOWN = ("zh", "en", "it")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
#: links, e-mail addresses and @handles carry Latin letters but no language
_NOISE = re.compile(r"(?:https?://|www\.)[!-~]+|[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+|@[a-z0-9_]+",
                    re.IGNORECASE | re.ASCII)
#: runs of Latin letters (single letters included: Italian "è", "a", "e"; only runs of 2+ count as words)
_LETTERS = re.compile(r"[a-z\u00e0-\u024f]+", re.IGNORECASE)
#: grave accents (é is as French and Spanish as it is Italian)
_ITALIAN_ACCENT = re.compile(r"[àèìòù]")

#: frequent function words that tell the Latin-script languages apart (none shared between two lists)
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and you your for this that with are is to of in on it my me we our not be have "
                    "will just now get all from can out was they what so if at by an".split()),
    "it": frozenset("il lo gli della dello delle degli che di per sono non ci si mi ti anche molto mio mia "
                    "più come questo questa nel nella alla alle ho hai ha è sei siamo tuo tua vostro ma".split()),
    "es": frozenset("el los las por es muy pero sus este esta como más sin "
                    "tu ya hay yo".split()),
    "fr": frozenset("le les des du pour une est avec et qui dans pas sur au vous nous ce cette "
                    "très sont je".split()),
    "de": frozenset("der die und ist nicht mit für auf den dem ein eine ich sie wir auch sich "
                    "noch nur oder wie".split()),
    "pt": frozenset("os dos uma com não um em do da muito você são mas seu sua".split()),
}


def normalize_tag(tag: str | None) -> str | None:
    """``zh-CN``, ``zh_Hant``, ``ZH`` → ``zh``; ``en-US`` → ``en``; empty → None."""
    if not tag or not isinstance(tag, str):
        return None
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    if primary in ("cmn", "yue", "wuu", "chi", "zho"):
        return "zh"
    return primary or None


def detect_lang(text: str) -> str | None:
    """A guess at the language of ``text``: zh, ja, ko, en, it, es, fr, de, pt, or None.

    Han characters decide for Chinese when they are at least as many as the Latin
    words (a Chinese post with a WeChat handle and a link is Chinese; an English post
    quoting one name in characters is not). Kana or Hangul mean Japanese or Korean.
    Latin-script text goes to the language with the most of its function words;
    Italian accented vowels count for Italian. No function word at all, or a tie:
    None. Latin text without function words is mostly tickers, handles and hashtags,
    where a wrong guess would apply another language's validation.
    """
    if not text:
        return None
    clean = _NOISE.sub(" ", text) if ("@" in text or "://" in text or "www." in text) else text
    han = len(_HAN.findall(clean))
    runs = _LETTERS.findall(clean)
    n_words = sum(len(w) > 1 for w in runs)
    if _KANA.search(clean) and len(_KANA.findall(clean)) * 4 >= han:
        return "ja"
    if _HANGUL.search(clean) and len(_HANGUL.findall(clean)) >= han:
        return "ko"
    if han and han >= n_words:
        return "zh"
    if not n_words:
        return None
    words = [w.lower() for w in runs]
    scores = {lang: sum(w in sw for w in words) for lang, sw in _STOPWORDS.items()}
    scores["it"] += min(len(_ITALIAN_ACCENT.findall(clean.lower())), 3)
    best = max(scores.values())
    if best == 0:
        return None
    top = [lang for lang, s in scores.items() if s == best]
    return top[0] if len(top) == 1 else None


def post_lang(declared: str | None, text: str) -> str | None:
    """A post's language: its declared ``lang`` (normalized) if any, else :func:`detect_lang` of its text."""
    return normalize_tag(declared) or detect_lang(text)


def lang_of(post: Post) -> str | None:
    """:func:`post_lang` of a post: its ``lang``, else a guess from its text fields (links left out)."""
    declared = normalize_tag(post.lang)
    if declared:
        return declared
    return detect_lang("\n".join(value for name, value in post.fields() if name != "links"))
