"""Files as people have them, read into text: PDF (pypdf, page by page), Word .docx
(python-docx), HTML (Beautiful Soup, without navigation, headers, footers, scripts and forms),
Markdown and plain text. The type is read from the bytes; the declared content type only tells
Markdown from plain text. A file that cannot be read safely is refused with a reason a person
can act on (UnreadableFile): encrypted or corrupt, a zip that inflates past reason, a type not
supported, more pages or text than Parley takes."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"
SUPPORTED = (PDF, DOCX, HTML, MARKDOWN, TEXT)

MAX_PAGES = 2_000
MAX_TEXT_CHARS = 20_000_000
MAX_INFLATED_BYTES = 100 * 1024 * 1024  # a .docx's parts, uncompressed, in all
MAX_COMPRESSION_RATIO = 200  # deflate rarely passes ~20 on real documents; bombs pass 1,000

_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE | re.DOTALL
)
_BOILERPLATE = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "svg",
    "iframe",
)


class UnreadableFile(Exception):
    """The file cannot be ingested; the message says why, for the document's status."""


@dataclass(frozen=True)
class ParsedFile:
    content_type: str  # as detected
    pages: list[str]  # a PDF's text page by page; any other file is one "page"
    paginated: bool
    title: str | None = None


def detect_type(data: bytes, declared: str | None = None, filename: str | None = None) -> str:
    """The file's type from its bytes (magic numbers, a zip's parts, UTF-8 text)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            raise UnreadableFile("The file is a damaged zip archive.") from None
        raise UnreadableFile(
            "The file is a zip archive but not a Word document (.docx); that type is not supported."
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableFile(
            "The file's type is not supported: Parley reads PDF, Word (.docx), HTML, Markdown and UTF-8 text."
        ) from None
    if _HTML_START.match(data[:4096]) or (declared or "").startswith(HTML):
        return HTML
    if (declared or "").startswith(MARKDOWN) or (filename or "").lower().endswith((".md", ".markdown")):
        return MARKDOWN
    return TEXT


def parse(data: bytes, declared: str | None = None, filename: str | None = None) -> ParsedFile:
    kind = detect_type(data, declared, filename)
    if kind == PDF:
        parsed = _pdf(data)
    elif kind == DOCX:
        parsed = ParsedFile(DOCX, [_docx(data)], paginated=False)
    elif kind == HTML:
        text, title = _html(data.decode("utf-8"))
        parsed = ParsedFile(HTML, [text], paginated=False, title=title)
    else:
        parsed = ParsedFile(kind, [data.decode("utf-8")], paginated=False)
    if sum(len(page) for page in parsed.pages) > MAX_TEXT_CHARS:
        raise UnreadableFile(f"The file holds more than {MAX_TEXT_CHARS:,} characters of text; split it.")
    if not any(page.strip() for page in parsed.pages):
        raise UnreadableFile("The file holds no text Parley can read (a scanned PDF needs OCR first).")
    return parsed


def _pdf(data: bytes) -> ParsedFile:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("The PDF is encrypted with a password; upload it unprotected.")
        if len(reader.pages) > MAX_PAGES:
            raise UnreadableFile(
                f"The PDF has {len(reader.pages):,} pages; Parley takes at most {MAX_PAGES:,}."
            )
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except UnreadableFile:
        raise
    except (
        PdfReadError,
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
    ) as error:
        raise UnreadableFile(f"The PDF is damaged and cannot be read ({type(error).__name__}).") from None
    except Exception as error:  # pypdf raises a wide range on hostile input
        if "crypt" in str(error).lower():
            raise UnreadableFile("The PDF is encrypted in a way Parley cannot open.") from None
        raise UnreadableFile(f"The PDF cannot be read ({type(error).__name__}).") from None
    return ParsedFile(PDF, pages, paginated=True, title=str(title) if title else None)


def _docx(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        inflated = sum(entry.file_size for entry in entries)
        packed = sum(entry.compress_size for entry in entries) or 1
        if inflated > MAX_INFLATED_BYTES or inflated / packed > MAX_COMPRESSION_RATIO:
            raise UnreadableFile(
                f"The Word document inflates to {inflated:,} bytes from {packed:,} (a zip bomb?); "
                "it was not opened."
            )
    from docx import Document

    try:
        document = Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises KeyError, ValueError, lxml errors...
        raise UnreadableFile(
            f"The Word document is damaged and cannot be read ({type(error).__name__})."
        ) from None
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n\n".join(part for part in parts if part.strip())


def _html(markup: str) -> tuple[str, str | None]:
    """The page's own text: <main> or <article> when it has one, without navigation, headers,
    footers, asides, scripts, styles and forms; paragraphs kept apart."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(_BOILERPLATE):
        tag.decompose()
    body = soup.find("main") or soup.find("article") or soup.body or soup
    lines = [" ".join(line.split()) for line in body.get_text("\n").splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, title or None
