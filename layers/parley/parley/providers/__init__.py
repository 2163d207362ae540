"""Chat model providers behind one protocol, and the registry of models they serve.

Provider SDKs are imported only inside the provider module that needs them, so functions that
never generate (the read paths) never pay their import time.
"""
