#!/bin/sh
# The Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) runs this as the function's
# web app: it answers on AWS_LWA_PORT and the adapter streams its responses to API Gateway.
exec python3 -m parley.edge.web_adapter
