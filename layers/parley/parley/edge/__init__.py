"""The HTTP edge: what stands between API Gateway's events and the use cases. Requests are read
and guarded here, responses and streams written, errors put in each API style's shape; nothing
below it knows of HTTP."""
