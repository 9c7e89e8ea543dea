"""The stand-in's SigV4 check is real: unsigned, tampered or mis-scoped requests are refused."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from support.sagemaker_fixtures import aws_env, lead_rows, standin  # noqa: F401
from support.sagemaker_standin import ACCESS_KEY, LEAD_MODEL, REGION, SECRET_KEY


def _send(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def _signed(
    url: str, body: bytes, *, service: str = "sagemaker", region: str = REGION, secret: str = SECRET_KEY
) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY, secret), service, region).add_auth(request)
    return dict(request.headers.items())


def test_a_correctly_signed_request_is_served(standin) -> None:  # noqa: F811
    url = f"{standin.url}/endpoints/lead-scoring/invocations"
    row = lead_rows(1)[0]
    body = json.dumps(row).encode()
    status, headers, reply = _send(url, body, _signed(url, body))
    assert status == 200 and headers["x-Amzn-Invoked-Production-Variant"] == "AllTraffic"
    assert reply == {"predictions": [float(LEAD_MODEL.predict([row])[0])]}


def test_unsigned_request_is_refused(standin) -> None:  # noqa: F811
    url = f"{standin.url}/endpoints/lead-scoring/invocations"
    status, headers, _ = _send(url, b"{}", {"Content-Type": "application/json"})
    assert status == 403 and headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert standin.requests[-1].signature_valid is False


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("body", "InvalidSignatureException"),
        ("secret", "InvalidSignatureException"),
        ("service", "InvalidSignatureException"),
        ("region", "InvalidSignatureException"),
        ("old", "InvalidSignatureException"),
    ],
)
def test_tampered_or_misscoped_requests_are_refused(standin, tamper, code) -> None:  # noqa: F811
    url = f"{standin.url}/endpoints/lead-scoring/invocations"
    body = json.dumps(lead_rows(1)[0]).encode()
    kwargs = {"secret": "wrong-secret"} if tamper == "secret" else {}
    kwargs |= {"service": "s3"} if tamper == "service" else {}
    kwargs |= {"region": "us-east-1"} if tamper == "region" else {}
    headers = _signed(url, body, **kwargs)
    if tamper == "body":
        body = body.replace(b"0", b"1")
    if tamper == "old":
        old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
        headers["X-Amz-Date"] = old
    status, reply_headers, _ = _send(url, body, headers)
    assert status == 403 and reply_headers["x-amzn-ErrorType"] == code
