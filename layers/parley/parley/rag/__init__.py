"""Retrieval: chunking, vector stores (OpenSearch, local), prompt rendering and citations."""
