"""Translations of the web UI: Babel catalogs compiled in memory, one language per request.

msgids are English; Swedish is the default language. The ``.po`` catalogs under
``backend/web/locale/<lang>/LC_MESSAGES/samverka.po`` are read and compiled once at start-up (no
binary ``.mo`` in git). The language of the current request lives in a context variable that the
web middleware sets from the ``lang`` cookie, so ``_("...")`` works anywhere in a request.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "samverka"
LANGUAGES: Mapping[str, str] = {"sv": "Svenska", "en": "English"}  # each named in its own language
DEFAULT_LANGUAGE = "sv"
LANG_COOKIE = "lang"

_current: ContextVar[str] = ContextVar("samverka_web_language", default=DEFAULT_LANGUAGE)


def compile_catalog(po_file: Path, locale: str) -> GNUTranslations:
    """Read one ``.po`` file and compile it to an in-memory gettext catalog (fuzzy entries left out)."""
    with po_file.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return GNUTranslations(buffer)


@functools.cache
def catalogs() -> dict[str, NullTranslations]:
    """Every language's catalog; read on first use (the app factory calls it at start-up)."""
    result: dict[str, NullTranslations] = {}
    for lang in LANGUAGES:
        po_file = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        result[lang] = compile_catalog(po_file, lang) if po_file.exists() else NullTranslations()
    return result


def negotiate(value: str | None) -> str:
    """A supported language code from a cookie or form value; the default otherwise."""
    return value if value is not None and value in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    return _current.get()


def set_language(lang: str) -> None:
    """Make ``lang`` the language of the rest of this request (the middleware and error pages call it)."""
    _current.set(negotiate(lang))


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Use ``lang`` for a block, e.g. a mail written in the recipient's language."""
    token = _current.set(negotiate(lang))
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, **variables: Any) -> str:
    """``message`` in the current language; ``%(name)s`` placeholders filled from ``variables``."""
    text = catalogs()[_current.get()].gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """The singular or plural form for ``n``; ``%(num)d`` is ``n``."""
    text = catalogs()[_current.get()].ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def N_(message: str) -> str:  # the conventional name that extraction looks for
    """Mark a string for extraction where it is defined (module level); translate it when shown."""
    return message


_ = gettext

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANG_COOKIE",
    "N_",
    "_",
    "catalogs",
    "current_language",
    "gettext",
    "language",
    "negotiate",
    "ngettext",
    "set_language",
]
