#!/bin/sh
# Regenerate the gRPC modules from the protocol's .proto (needs grpcio-tools; run from server/).
set -eu
cd "$(dirname "$0")/../src"
python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. \
    hotcrm_ai_server/proto/grpc_predict_v2.proto
