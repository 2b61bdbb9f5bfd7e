"""Streaming, defused XML for feed connectors (GDACS RSS, CAP): one record element at a time.

- Parsed with ``defusedxml`` only: entity declarations (billion laughs) and external entities
  are refused before anything expands — the payload is a ``SourceFormatError``.
- Streamed with ``iterparse``: each record element is handed over when it closes, then cleared
  and detached, so memory stays flat however long the feed is.
- Invalid bytes cost one record, not the file: the document is decoded in Python (its declared
  encoding, UTF-8 by default) with bad bytes becoming U+FFFD — expat would stop at the first
  one — and ``replaced_field`` lets the parser reject the record that holds them, naming the
  element. Encodings expat lacks (GB2312) are read the same way.
- A document that breaks after some records (truncated download, a stray ``&``) yields the
  records read so far, then one ``Rejection`` saying where it broke. A document that breaks
  before its first record is a ``SourceFormatError``.

Shared by the XML connectors (``gdacs_alerts``, ``cap_alerts``).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from typing import IO
from xml.etree.ElementTree import Element, ParseError, tostring

import defusedxml.ElementTree as defused
from defusedxml import DefusedXmlException

from allweather.connectors.errors import SourceFormatError
from allweather.connectors.normalize import RAW_LIMIT, buffered
from allweather.domain.events import Rejection

REPLACEMENT = "\ufffd"
# The encoding named in the XML declaration, as bytes (sniffed) and as text (rewritten).
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DECLARATION_TEXT = re.compile(
    r"^(\ufeff?\s*<\?xml\s[^>]*?encoding\s*=\s*[\"'])[A-Za-z0-9._-]+([\"'])"
)
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Declared encodings read as the supersets publishers actually write (as browsers do).
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252", "latin-1": "cp1252"}


def local(tag: str) -> str:
    """``{namespace}name`` → ``name``."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    """``{namespace}name`` → ``namespace`` ('' when none)."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


# Readable prefixes for quarantined records (ElementTree would write ns0:, ns1:, …).
PREFIXES = {
    "http://www.gdacs.org": "gdacs",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://www.georss.org/georss": "georss",
    "http://www.w3.org/2005/Atom": "atom",
    "http://purl.org/dc/elements/1.1/": "dc",
}
_GENERATED = re.compile(r'xmlns:(ns\d+)="([^"]*)"')


def raw_xml(element: Element) -> str:
    """The element as text for quarantine, with the usual prefixes, cut to the limit."""
    raw = tostring(element, encoding="unicode")
    for generated, uri in _GENERATED.findall(raw[:2000]):
        prefix = PREFIXES.get(uri) or ("cap" if "emergency:cap" in uri else None)
        if prefix:
            raw = re.sub(rf"(?<=[<\s/]){generated}:", f"{prefix}:", raw)
            raw = raw.replace(f"xmlns:{generated}=", f"xmlns:{prefix}=")
    return raw[:RAW_LIMIT]


def replaced_field(element: Element) -> str | None:
    """The name of the first element (or ``element@attribute``) holding U+FFFD, if any."""
    for node in element.iter():
        if REPLACEMENT in (node.text or "") or REPLACEMENT in (node.tail or ""):
            return local(node.tag)
        for name, value in node.attrib.items():
            if REPLACEMENT in value:
                return f"{local(node.tag)}@{local(name)}"
    return None


class _Recoded:
    """A byte stream in ``encoding`` re-read as UTF-8, invalid bytes becoming U+FFFD.

    The XML declaration is rewritten to say UTF-8. Besides keeping one bad byte from ending the
    document, this lets expat read encodings it does not know (GB2312, Shift_JIS, …).
    """

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._declaration_done = False
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done:
            chunk = self._raw.read(size if size > 0 else 1 << 16)
            decoded = self._decoder.decode(chunk, final=not chunk)
            self._done = not chunk
            if decoded:
                if not self._declaration_done:
                    decoded = _DECLARATION_TEXT.sub(r"\g<1>utf-8\g<2>", decoded, count=1)
                    self._declaration_done = True
                return decoded.encode("utf-8")
        return b""


def _readable(raw: IO[bytes], name: str) -> IO[bytes] | _Recoded:
    """The document as UTF-8 for expat (UTF-16 with a byte-order mark goes to expat as is)."""
    stream = buffered(raw)
    head = stream.peek(512)[:512]
    if head.startswith(_UTF16_BOMS):
        return stream
    declared = None if head.startswith(_UTF8_BOM) else _DECLARED_ENCODING.match(head)
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    encoding = _SUPERSETS.get(encoding, encoding)
    try:
        return _Recoded(stream, encoding)
    except LookupError:
        raise SourceFormatError(f"{name}: unknown XML encoding {encoding!r}") from None


def iter_records(
    raw: IO[bytes],
    name: str,
    is_record: Callable[[str], bool],
    check_root: Callable[[str], None],
    label: str = "record",
) -> Iterator[Element | Rejection]:
    """Record elements of a document as each closes; see the module docstring for failures.

    Args:
        raw: the payload's byte stream.
        name: the payload name, for messages.
        is_record: whether an element with this (namespaced) tag is a record.
        check_root: called with the root tag; raises ``SourceFormatError`` for a foreign root.
        label: what a record is called in the reference of a break (``item 51``), counting
            records not nested in another record.

    Raises:
        SourceFormatError: unsafe XML (entities), or not well-formed before the first record.
    """
    stack: list[Element] = []
    handed = 0
    try:
        for event, element in defused.iterparse(_readable(raw, name), events=("start", "end")):
            if event == "start":
                if not stack:
                    check_root(element.tag)
                stack.append(element)
                continue
            stack.pop()
            if not is_record(element.tag):
                continue
            nested = any(is_record(open_.tag) for open_ in stack)
            if not nested:
                handed += 1
            yield element
            element.clear()
            # Detach from the container so it can be freed; a record nested in another record
            # (a CAP alert inside an Atom entry) stays, emptied, so the outer one knows.
            if stack and not nested:
                stack[-1].remove(element)
    except DefusedXmlException as err:
        raise SourceFormatError(
            f"{name}: unsafe XML refused ({type(err).__name__}: {err})"
        ) from err
    except ParseError as err:
        if not handed:
            raise SourceFormatError(f"{name}: not well-formed XML ({err})") from err
        partial = next((e for e in stack if is_record(e.tag)), None)
        yield Rejection(
            ref=f"{label} {handed + 1}",
            raw=raw_xml(partial) if partial is not None else "",
            reason=f"the XML breaks here ({err}); the rest of the document cannot be read",
            field=None,
        )
