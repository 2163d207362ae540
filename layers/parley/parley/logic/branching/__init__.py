"""Branching: a conversation is a tree of messages with one active branch (DESIGN §4). A change
of the active branch is read (`tree`: the few messages around where it happens, never the whole
tree), planned (`plans`: no I/O), then written by the store as one `Reroute`, planned again when
another request moved the branch in between (`changes`). The use cases: a new message under any
message, another answer (parley.logic.completion), and the choice of the active branch
(`switch`)."""
