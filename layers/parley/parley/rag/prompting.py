"""The RAG system prompt (a template with the numbered context) and the citations an answer
makes: every `[n]` it uses that points at a retrieved chunk."""

from __future__ import annotations

import re

from parley.models.api.rag import Citation, PromptTemplate
from parley.placeholders import expand_placeholders
from parley.rag.vectors import ScoredChunk

DEFAULT_TEMPLATE = PromptTemplate(
    template_id="parley-default",
    version="1",
    brand_id=None,
    body=(
        "You are a helpful assistant for {{brand_id}}. Answer the user's question from the numbered sources "
        "below. Cite each source you use by its number in square brackets, like [1]. If the sources do not "
        "hold the answer, say so plainly rather than guessing.\n\nSources:\n{{context}}"
    ),
    description="Parley's built-in RAG prompt.",
    created_at="2026-01-01T00:00:00.000Z",
)
NO_SOURCES = "(no sources matched this question)"
_MARKER = re.compile(r"\[(\d{1,3})\]")


def numbered_context(chunks: list[ScoredChunk]) -> str:
    if not chunks:
        return NO_SOURCES
    return "\n\n".join(f"[{n}] {_label(chunk)}{chunk.content}" for n, chunk in enumerate(chunks, 1))


def _label(chunk: ScoredChunk) -> str:
    """`(Handbook, p. 3) `: where a source comes from, so the model can say so."""
    parts = [part for part in (chunk.title, f"p. {chunk.page}" if chunk.page else None) if part]
    return f"({', '.join(parts)}) " if parts else ""


def render(template: PromptTemplate, brand_id: str, chunks: list[ScoredChunk]) -> str:
    return expand_placeholders(template.body, {"context": numbered_context(chunks), "brand_id": brand_id})


def citations(answer: str, chunks: list[ScoredChunk]) -> list[Citation]:
    """One citation per distinct `[n]` in the answer, in order of first use; a marker that points
    past the retrieved chunks (the model citing `[7]` with 3 sources) is not a citation."""
    cited: list[Citation] = []
    seen: set[int] = set()
    for match in _MARKER.finditer(answer):
        n = int(match.group(1))
        if n in seen or not 1 <= n <= len(chunks):
            continue
        seen.add(n)
        chunk = chunks[n - 1]
        cited.append(
            Citation(
                index=n,
                content=chunk.content,
                document_id=chunk.document_id,
                score=chunk.score,
                title=chunk.title,
                page=chunk.page,
            )
        )
    return cited
