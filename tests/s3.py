"""moto's S3 server on 127.0.0.1, for the tests of the s3:// sinks and corpora."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from tests.capture.conftest import free_port


@contextlib.contextmanager
def moto_s3(
    monkeypatch: pytest.MonkeyPatch,
    cache: Path,
    bucket: str,
    secret: str = "moto-secret",
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start moto's S3 server, point the standard AWS variables (and ``env``) at it,
    make ``bucket``; the server is stopped on the way out."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "no moto"
                time.sleep(0.1)
        variables = {
            "AWS_ENDPOINT_URL_S3": url,
            "AWS_ACCESS_KEY_ID": "moto-key",
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "XDG_CACHE_HOME": str(cache),
            **(env or {}),
        }
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        boto3.client("s3").create_bucket(Bucket=bucket)
        yield process
    finally:
        process.terminate()
        process.wait(10)
