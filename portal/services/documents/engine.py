"""xhtml2pdf, minus what its own entry point rebuilds on every call (issue 16).

`pisa.CreatePDF` starts each conversion from nothing: it parses xhtml2pdf's default style
sheet and the document's, and for every `@font-face` resolves the file and reads and hashes
it whole (an MD5 of 700 KB per DejaVu face) before finding the font registered already.
Measured on a one-page invoice that was ~6 of ~52 ms of CPU. Here, once per process:

- the DejaVu faces are registered with ReportLab (and the family's bold and italic mapping),
  and every conversion's context knows the family `"DejaVu Sans"`: templates name it in
  `font-family` and carry no `@font-face`;
- a style sheet without at-rules or `url()` (the default one, and a template's static
  `<style>` block) is parsed once and its parsed rulesets reused. A block with `@page`
  (frames, margins that depend on the context) is parsed on every call as before;
- ReportLab writes binary Flate streams instead of ASCII85-wrapped ones (`rl_config.useA85`):
  smaller, no base-85 pass in pure Python, and the PDF/A step keeps them as they are.

Thread safety: xhtml2pdf runs one conversion at a time per process (its `_RENDER_LOCK`: ReportLab
keeps fonts and caches in module globals). `convert` holds that same lock around the whole
conversion, so the parsed style sheets are only read or built under it; the one-time setup has
its own lock. Celery prefork workers are processes: each builds its own caches once.

`convert` mirrors `pisa.pisaDocument` (policy, budget, temp-file cleanup, cache reset) around
xhtml2pdf's `_build`, the function `pisaDocument` itself calls with its context; only the context
class differs. tests/test_render_cache.py compares the result with `pisa.CreatePDF`'s, so a
change inside xhtml2pdf that breaks this shows there.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

from reportlab import rl_config
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from xhtml2pdf import document as _document
from xhtml2pdf.config.resources import ResourceAccessPolicy, render_budget, use_policy
from xhtml2pdf.context import pisaContext
from xhtml2pdf.files import cleanFiles
from xhtml2pdf.util import reset_caches

from ...config import ROOT

STATIC_DIR = (ROOT / "static").resolve()
FONT_DIR = STATIC_DIR / "fonts"

#: The family templates name (`font-family: "DejaVu Sans"`), as xhtml2pdf keys it.
FONT_FAMILY = "dejavu sans"
#: (bold, ReportLab face name, file). The names are the ones xhtml2pdf's @font-face gave.
FONT_FACES = ((False, f"{FONT_FAMILY}_00", "DejaVuSans.ttf"),
              (True, f"{FONT_FAMILY}_10", "DejaVuSans-Bold.ttf"))

#: Every limit of xhtml2pdf's server policy on, reads confined to static/, no network. The
#: template is ours and an invoice has at most 1000 lines (~45 pages), so the time limit is a
#: guard, not a budget. Immutable (a frozen dataclass): one for the process.
POLICY = ResourceAccessPolicy.server(base_dir=STATIC_DIR, allow_remote=False,
                                     max_render_seconds=300)

_setup_lock = threading.Lock()
_ready = False
_CSS_CACHE_SIZE = 32
#: style sheet text -> its parsed rulesets; read and written only under xhtml2pdf's render lock.
_parsed_css: dict[str, object] = {}


def setup() -> None:
    """Register the fonts and set ReportLab's stream encoding, once per process."""
    global _ready
    if _ready:
        return
    with _setup_lock:
        if _ready:
            return
        registered = set(pdfmetrics.getRegisteredFontNames())
        for _, name, filename in FONT_FACES:
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        rl_config.useA85 = 0
        _ready = True


def _map_family() -> None:
    """The family's faces in ReportLab's (global) family map. Set again for every conversion:
    a conversion elsewhere in the process whose @font-face names the same family rewrites it
    (xhtml2pdf maps italic to whichever face came second)."""
    for bold, name, _ in FONT_FACES:
        for italic in (0, 1):  # no italic face: italic text keeps the upright one
            addMapping(FONT_FAMILY, int(bold), italic, name)


def _cacheable(text: str) -> bool:
    """Rulesets only: parsing them has no effect on the context (no @page, @font-face,
    @import, nothing fetched through url())."""
    return "@" not in text and "url(" not in text.lower()


class _Context(pisaContext):
    """A conversion's context that knows the registered fonts and reuses parsed style sheets."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.registerFont(FONT_FAMILY, [name for _, name, _ in FONT_FACES])

    def _parseCSSSource(self, text, source_name):  # noqa: N802 (xhtml2pdf's name)
        if not _cacheable(text):
            return super()._parseCSSSource(text, source_name)
        parsed = _parsed_css.get(text)
        if parsed is None:
            parsed = super()._parseCSSSource(text, source_name)
            if len(_parsed_css) >= _CSS_CACHE_SIZE:
                _parsed_css.clear()
            _parsed_css[text] = parsed
        return parsed


def convert(html: str, *, link_callback: Callable[[str, object], str]) -> tuple[bytes, int]:
    """The PDF for `html` and xhtml2pdf's error count (what `CreatePDF(...).err` says)."""
    setup()
    out = io.BytesIO()
    with _document._RENDER_LOCK:
        _map_family()
        context = _Context("", capacity=100 * 1024)
        context.pathCallback = link_callback
        context.resource_policy = POLICY
        try:
            with use_policy(POLICY), render_budget(POLICY):
                _document._build(html, context, dest=out, dest_bytes=False, path="",
                                 link_callback=link_callback, default_css=None, xhtml=False,
                                 encoding="utf-8", xml_output=None, encrypt=None,
                                 signature=None)
        finally:
            cleanFiles()
            reset_caches()
    return out.getvalue(), context.err
