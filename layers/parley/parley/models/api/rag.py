"""Bodies of the AI API (`/v1/ai/...`): the RAG chat of document 003, document ingestion, prompt
templates and assistants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from parley.models.api.filters import MetadataFilters
from parley.models.api.tools import McpTool
from parley.models.api.types import JSON_NUMBER

SeedModel = Literal["claude-sonnet-4-6", "gpt-4o", "gpt-4o-mini", "gpt-4-turbo", "gpt-3.5-turbo"]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]


class ChatTurn(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class RagChatRequest(BaseModel):
    """Document 003's request body; unknown fields are ignored, as that schema allows."""

    messages: list[ChatTurn] = Field(min_length=1, max_length=200)
    brand_id: str = Field(min_length=1, max_length=100)
    user_id: str = Field(min_length=1, max_length=200)
    model: SeedModel | None = None
    assistant_id: str | None = Field(None, max_length=128)
    rag_scope: str | None = Field(None, max_length=100)
    top_k: Annotated[int, Field(gt=0, le=50), JSON_NUMBER] | None = None
    threshold: Annotated[float, Field(ge=0, le=1), JSON_NUMBER] | None = None
    filters: MetadataFilters | None = None
    temperature: Annotated[float, Field(ge=0, le=2), JSON_NUMBER] | None = None
    max_tokens: Annotated[int, Field(gt=0, le=32_000), JSON_NUMBER] | None = None
    stream: bool | None = Field(
        None,
        description="true: answer as server-sent events (`context`, `delta`s, then `done` with this route's "
        "200 body; errors before the first byte are ordinary JSON responses). Same as "
        "`Accept: text/event-stream`.",
    )


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ContextChunk(BaseModel):
    id: str
    content: str
    score: float
    title: str | None = Field(None, description="The document's title, when it has one.")
    page: int | None = Field(None, description="The page of the file the chunk comes from (PDF).")


class Citation(BaseModel):
    index: int = Field(description="The n of the answer's [n] marker: rag_context[n - 1].")
    content: str
    document_id: str | None
    score: float
    title: str | None = None
    page: int | None = None


class RagChatResponse(BaseModel):
    content: str
    model: str
    usage: Usage
    rag_context: list[ContextChunk]
    citations: list[Citation]
    finish_reason: str
    template_id: str
    template_version: str
    tool_runs: list[dict[str, Any]] | None = Field(
        None,
        description="Parley's extension: the calls of the assistant's MCP tools made for this answer.",
        exclude_if=lambda runs: runs is None,
    )


class DocumentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["content"]}, {"required": ["content_base64"]}]},
    )

    brand_id: str = Field(min_length=1, max_length=100)
    rag_scope: Identifier
    document_id: Identifier | None = None
    title: str | None = Field(None, max_length=500)
    content: str | SkipJsonSchema[None] = Field(
        None,
        min_length=1,
        description="The document as text (or content_base64): at most 2 MiB (2,097,152 bytes) in "
        "UTF-8, 5 MiB for a whole batch (a 413 beyond); a batch the request's 20 s cannot embed is a "
        "413 batch_too_large before anything is stored.",
    )
    content_base64: Annotated[str, Field(min_length=4, pattern=BASE64)] | SkipJsonSchema[None] = Field(
        None,
        description="A small file (PDF, .docx, HTML, Markdown, text; at most 4 MB) in base64, parsed "
        "as an uploaded file is, synchronously. Larger files: POST /v1/ai/files.",
    )
    content_type: str | None = Field(
        None, max_length=200, description="The file's type, with content_base64."
    )
    filename: str | None = Field(None, max_length=255)
    metadata: dict[str, Any] | None = Field(
        None,
        max_length=64,
        description="Any JSON object; its string, number and boolean values are what `filters` select on.",
    )
    expires_at: datetime | None = Field(
        None, description="After this instant the document is never retrieved."
    )

    @model_validator(mode="after")
    def _one_content(self) -> DocumentIn:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of content and content_base64")
        return self


class DocumentBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(min_length=1, max_length=100)


class IngestedDocument(BaseModel):
    document_id: str
    brand_id: str
    rag_scope: str
    chunks: int
    pages: int | None = Field(None, description="A PDF's pages.")


class FileIn(BaseModel):
    """POST /v1/ai/files: a file to upload straight to storage, then parse and ingest."""

    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=100)
    rag_scope: Identifier
    document_id: Identifier | None = None
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=200)
    size: int = Field(
        gt=0, description="The file's size in bytes (at most 100 MB); the upload must match it."
    )
    title: str | None = Field(None, max_length=500)
    metadata: dict[str, Any] | None = Field(
        None,
        max_length=64,
        description="Any JSON object; its string, number and boolean values are what `filters` select on.",
    )
    expires_at: datetime | None = None


class Upload(BaseModel):
    url: str
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="Send these headers with the bytes, as they are.")
    expires_at: str


class FileAccepted(BaseModel):
    document_id: str
    status: Literal["pending"]
    upload: Upload


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=100)
    rag_scope: str = Field(
        min_length=1,
        max_length=128,
        description="The folder `sync/<brand_id>/<rag_scope>/` of the files bucket to reconcile.",
    )


class SyncAccepted(BaseModel):
    brand_id: str
    rag_scope: str
    prefix: str = Field(description="The folder reconciled.")
    add: int = Field(description="Objects never indexed: they will be.")
    update: int = Field(description="Objects changed since they were indexed: they will be again.")
    remove: int = Field(description="Documents whose objects are gone: they will be removed.")


class DocumentStatus(BaseModel):
    document_id: str
    status: Literal["pending", "processing", "ready", "failed"]
    error: str | None = Field(None, description="Why the document failed, when it did.")
    filename: str | None
    content_type: str | None
    bytes: int | None
    pages: int | None = None
    chunks: int
    updated_at: str


class ListedDocument(DocumentStatus):
    rag_scope: str
    title: str | None = None


class DocumentPage(BaseModel):
    documents: list[ListedDocument] = Field(description="By scope, then document id.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class IngestResponse(BaseModel):
    documents: list[IngestedDocument]


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=100)
    template_id: Identifier | None = None
    body: str = Field(
        min_length=1,
        max_length=32_000,
        description="The system prompt; {{context}} becomes the numbered sources, {{brand_id}} the brand.",
    )
    description: str | None = Field(None, max_length=500)


class PromptTemplate(BaseModel):
    template_id: str
    version: str
    brand_id: str | None
    body: str
    description: str | None
    created_at: str


class TemplateEnvelope(BaseModel):
    template: PromptTemplate


class AssistantGuardrail(BaseModel):
    """A Bedrock guardrail for the assistant's turns, in place of the deployment's (GUARDRAIL_ID)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        pattern=r"^([a-z0-9]{1,64}|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]{1,64})$",
        description="The guardrail's id or ARN.",
    )
    version: str = Field(
        "DRAFT", pattern=r"^([1-9][0-9]{0,7}|DRAFT)$", description="A version number, or DRAFT."
    )


class AssistantRerank(BaseModel):
    """Rerank the assistant's retrieved chunks with Amazon Bedrock's Rerank (docs/rag.md)."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["amazon.rerank-v1:0", "cohere.rerank-v3-5:0"]
    top_n: Annotated[int, Field(ge=1, le=1000), JSON_NUMBER] = 30


class AssistantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    system_prompt: str | None = Field(None, max_length=32_000)
    model: str | None = Field(None, max_length=100)
    template_id: Identifier | None = None
    template_version: str | None = Field(None, pattern=r"^[1-9][0-9]{0,5}$")
    rag_scope: Identifier | None = None
    top_k: Annotated[int, Field(gt=0, le=50), JSON_NUMBER] | None = None
    threshold: Annotated[float, Field(ge=0, le=1), JSON_NUMBER] | None = None
    filters: MetadataFilters | None = Field(
        None,
        description="Pinned on every search the assistant makes; a request may narrow them, never widen.",
    )
    temperature: Annotated[float, Field(ge=0, le=2), JSON_NUMBER] | None = None
    tools: list[McpTool] | None = Field(
        None,
        max_length=20,
        description=(
            "MCP servers whose tools the assistant's answers use (docs/tools.md). Their headers and "
            'authorization are stored sealed and read back as "set".'
        ),
    )
    rerank: AssistantRerank | None = Field(
        None, description="Rerank the fused top `top_n` chunks with this Bedrock model (metered)."
    )
    guardrail: AssistantGuardrail | None = Field(
        None,
        description="A Bedrock guardrail checking the assistant's turns, in and out, whatever the provider.",
    )


class Assistant(AssistantIn):
    model_config = ConfigDict(extra="ignore")

    assistant_id: str
    created_at: str


class AssistantEnvelope(BaseModel):
    assistant: Assistant
