"""Finding a corpus: folders, globs and ``s3://`` prefixes (against moto's S3 server);
expectations kept beside the cassettes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from agentreplay.check import find_cassettes, read_expectations, write_expectation
from agentreplay.errors import UsageError
from tests.s3 import moto_s3


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A bucket on moto's S3 server on 127.0.0.1, the AWS variables pointing at it."""
    with moto_s3(monkeypatch, tmp_path / "cache", "runs"):
        yield "runs"


def test_an_s3_prefix_is_listed_and_downloaded_once(bucket: str) -> None:
    client = boto3.client("s3")
    for key in ("prod/2026-12-03/b.cassette", "prod/2026-12-02/a.cassette", "prod/notes.txt"):
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    client.put_object(Bucket=bucket, Key="staging/c.cassette", Body=b"c")

    found = find_cassettes([f"s3://{bucket}/prod/"])
    assert [p.read_bytes() for p in found] == [
        b"prod/2026-12-02/a.cassette",
        b"prod/2026-12-03/b.cassette",
    ]
    assert find_cassettes([f"s3://{bucket}/prod/"]) == found  # the cached copies
    with pytest.raises(UsageError, match="no cassettes under s3://runs/nothing/"):
        find_cassettes([f"s3://{bucket}/nothing/"])


def test_folders_and_globs_name_each_cassette_once(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    for name in ("a/one.cassette", "a/deep/two.cassette", "a/readme.txt"):
        (tmp_path / name).write_bytes(b"")
    found = find_cassettes([str(tmp_path / "a"), str(tmp_path / "a" / "*.cassette")])
    assert found == [tmp_path / "a" / "deep" / "two.cassette", tmp_path / "a" / "one.cassette"]


def test_an_expectation_is_kept_beside_the_cassette_and_can_be_taken_back(
    tmp_path: Path,
) -> None:
    cassette = tmp_path / "run.cassette"
    cassette.write_bytes(b"")
    assert read_expectations(cassette) == "reproduce"
    kept = write_expectation(cassette, "fixed")
    assert kept == tmp_path / "expectations.json"
    assert read_expectations(cassette) == "fixed"
    write_expectation(cassette, "reproduce")
    assert read_expectations(cassette) == "reproduce"
    kept.write_text('{"run.cassette": "maybe"}')
    with pytest.raises(UsageError, match="expects 'maybe'"):
        read_expectations(cassette)
