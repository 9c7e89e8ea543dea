"""The OpenAPI 3.1 document of every REST endpoint (served at ``/openapi.json``): the protocol's
request and response shapes, our extensions, the auth scheme and the error body."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_PARAM_VALUE = {"type": ["boolean", "integer", "number", "string"]}


def _responses(ok: dict[str, Any], *codes: int, media: str = "application/json") -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {media: {"schema": ok}}}}
    names = {
        400: "Bad request (names every bad field)",
        401: "Missing or wrong API key",
        403: "The key may not use this model",
        404: "Unknown model",
        409: "Model not active or version not served",
        413: "Body over the size limit",
        503: "Not ready or shutting down",
        504: "Over the time limit",
        502: "The model's provider failed",
    }
    for code in codes:
        out[str(code)] = {"description": names[code], "content": {"application/json": {"schema": _ERROR}}}
    return out


def _model_params(with_version: bool) -> list[dict[str, Any]]:
    params = [{"name": "model", "in": "path", "required": True, "schema": {"type": "string"}}]
    if with_version:
        params.append({"name": "version", "in": "path", "required": True, "schema": {"type": "string"}})
    return params


def openapi_document() -> dict[str, Any]:
    from hotcrm_ai_server import __version__

    auth_codes = (401, 403, 404)
    paths: dict[str, Any] = {
        "/v2": {
            "get": {
                "summary": "Server metadata",
                "responses": _responses({"$ref": "#/components/schemas/ServerMetadata"}, 401, 503),
            }
        },
        "/v2/health/live": {
            "get": {
                "summary": "Liveness",
                "security": [],
                "responses": _responses({"type": "object", "properties": {"live": {"type": "boolean"}}}),
            }
        },
        "/v2/health/ready": {
            "get": {
                "summary": "Readiness",
                "security": [],
                "responses": _responses({"type": "object", "properties": {"ready": {"type": "boolean"}}}, 503),
            }
        },
        "/v1/ask": {
            "post": {
                "summary": "Answer a natural-language analytics question (as `hotcrm-ai ask --json`)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AskRequest"}}},
                },
                "responses": _responses({"type": "object"}, 400, 401, 413, 503, 504),
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (text exposition format)",
                "responses": _responses({"type": "string"}, 401, media="text/plain"),
            }
        },
        "/openapi.json": {"get": {"summary": "This document", "responses": _responses({"type": "object"}, 401)}},
    }
    for prefix, versioned in (("/v2/models/{model}", False), ("/v2/models/{model}/versions/{version}", True)):
        params = _model_params(versioned)
        paths[prefix] = {
            "get": {
                "summary": "Model metadata",
                "parameters": params,
                "responses": _responses({"$ref": "#/components/schemas/ModelMetadata"}, *auth_codes, 503),
            }
        }
        paths[f"{prefix}/ready"] = {
            "get": {
                "summary": "Model readiness",
                "parameters": params,
                "responses": _responses(
                    {"type": "object", "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}}},
                    *auth_codes,
                    503,
                ),
            }
        }
        body = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InferenceRequest"}}},
        }
        paths[f"{prefix}/infer"] = {
            "post": {
                "summary": "Inference",
                "parameters": params,
                "requestBody": body,
                "responses": _responses(
                    {"$ref": "#/components/schemas/InferenceResponse"}, 400, *auth_codes, 409, 413, 502, 503, 504
                ),
            }
        }
        paths[f"{prefix}/explain"] = {
            "post": {
                "summary": "Shapley-value explanation per row (base value + contributions = explained output)",
                "parameters": params,
                "requestBody": body,
                "responses": _responses(
                    {"$ref": "#/components/schemas/ExplainResponse"}, 400, *auth_codes, 409, 413, 502, 503, 504
                ),
            }
        }
    tensor_meta = {
        "type": "object",
        "required": ["name", "datatype", "shape"],
        "properties": {
            "name": {"type": "string"},
            "datatype": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer"}},
        },
    }
    parameters = {"type": "object", "additionalProperties": _PARAM_VALUE}

    def tensor(data: dict[str, Any]) -> dict[str, Any]:
        """An input or output tensor: the same fields both ways, ``data`` as each direction allows."""
        return {
            "type": "object",
            "required": ["name", "datatype", "shape"],
            "properties": {
                "name": {"type": "string"},
                "datatype": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}},
                "parameters": parameters,
                "data": data,
            },
        }

    schemas = {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "ServerMetadata": {
            "type": "object",
            "required": ["name", "version", "extensions"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "extensions": {"type": "array", "items": {"type": "string"}},
            },
        },
        "ModelMetadata": {
            "type": "object",
            "required": ["name", "versions", "platform", "inputs", "outputs"],
            "properties": {
                "name": {"type": "string"},
                "versions": {"type": "array", "items": {"type": "string"}},
                "platform": {"type": "string"},
                "inputs": {"type": "array", "items": tensor_meta},
                "outputs": {"type": "array", "items": tensor_meta},
            },
        },
        "InferenceRequest": {
            "type": "object",
            "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": {
                    "type": "object",
                    "description": "subject (string|integer), use_cache, explain (booleans), binary_data_output",
                    "additionalProperties": _PARAM_VALUE,
                },
                "inputs": {
                    "type": "array",
                    "items": tensor({}),
                },
                "outputs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}, "parameters": parameters},
                    },
                },
            },
        },
        "InferenceResponse": {
            "type": "object",
            "required": ["model_name", "outputs"],
            "properties": {
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "id": {"type": "string"},
                "parameters": {
                    "type": "object",
                    "description": "served_model, model_version, variant, cached, "
                    "degraded, degraded_reason: one value, or a JSON array (one per row) where rows differ",
                    "additionalProperties": _PARAM_VALUE,
                },
                "outputs": {
                    "type": "array",
                    "items": tensor({"type": "array"}),
                },
            },
        },
        "ExplainResponse": {
            "type": "object",
            "required": ["model_name", "explanations"],
            "properties": {
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "id": {"type": "string"},
                "explanations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["base_value", "output_value", "contributions", "text"],
                        "properties": {
                            "base_value": {"type": "number"},
                            "output_value": {"type": "number"},
                            "output_kind": {"type": "string"},
                            "method": {"type": "string"},
                            "exact": {"type": "boolean"},
                            "text": {"type": "string"},
                            "contributions": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "feature": {"type": "string"},
                                        "value": {},
                                        "contribution": {"type": "number"},
                                        "importance": {"type": "number"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "AskRequest": {
            "type": "object",
            "required": ["question"],
            "properties": {
                "question": {"type": "string", "minLength": 1},
                "now": {"type": "string", "description": "today's date for relative periods, YYYY-MM-DD"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "hotcrm-ai server (Open Inference Protocol V2)", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}],
    }
