"""Tools Parley runs itself for the model: MCP servers' tools (parley.remote_tools.mcp)."""
