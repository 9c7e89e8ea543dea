#!/bin/sh
# Regenerate the gRPC modules from the protocol's .proto (needs grpcio-tools; run from anywhere).
# The messages are built in a private descriptor pool, not protobuf's default one, so this server can
# share a process with other OIP V2 code (tritonclient.grpc, KServe) that defines the same names.
set -eu
cd "$(dirname "$0")/../src"
python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. \
    hotcrm_ai_server/proto/grpc_predict_v2.proto
sed -i 's/^DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(/POOL = _descriptor_pool.DescriptorPool()\nDESCRIPTOR = POOL.AddSerializedFile(/' \
    hotcrm_ai_server/proto/grpc_predict_v2_pb2.py
