"""Redact credentials from botocore's own DEBUG logging.

At DEBUG, botocore logs every request (with the ``X-Amz-Security-Token`` header) and every reply body
(STS AssumeRole replies carry ``SecretAccessKey`` and ``SessionToken``). Turning on DEBUG to chase a
problem must not write credentials to a log file, so a filter on those loggers blanks the values.
It runs only for records that are actually emitted (DEBUG enabled), and is installed once per process.
"""

from __future__ import annotations

import logging
import re
import threading

from hotcrm_ai.secrets import REDACTED

LOGGERS = ("botocore.endpoint", "botocore.parsers", "botocore.httpsession", "botocore.auth", "botocore.hooks")

_XML = re.compile(r"(<(SecretAccessKey|SessionToken)>)[^<]*(</\2>)")  # STS replies
_CANONICAL = re.compile(r"^(x-amz-security-token:).*$", re.M)  # a line of SigV4's canonical request
_QUOTED = re.compile(  # request headers / dict reprs: 'X-Amz-Security-Token': b'...'
    r"""(['"]?(?:X-Amz-Security-Token|SecretAccessKey|SessionToken|aws_secret_access_key)['"]?\s*[:=]\s*b?['"])"""
    r"""[^'"]*(['"])""",
    re.I,
)


def scrub_text(text: str) -> str:
    text = _XML.sub(rf"\1{REDACTED}\3", text)
    text = _CANONICAL.sub(rf"\1{REDACTED}", text)
    return _QUOTED.sub(rf"\1{REDACTED}\2", text)


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        clean = scrub_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = ScrubFilter("hotcrm-ai-sagemaker-scrub")
_lock = threading.Lock()


def install() -> None:
    """Attach the filter to botocore's request/response loggers (idempotent)."""
    with _lock:
        for name in LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
