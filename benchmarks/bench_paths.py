"""Recording and replay cost per exchange and per streamed chunk, with no network.

    python benchmarks/bench_paths.py [--calls 1000] [--streams 20] [--chunks 500]
                                     [--repeat 7] [--clients httpx,httpx2] [--no-otel]

Every mode runs one client on ``MockTransport`` (the client library handing
back bytes from memory), so what is left is the cost of what wraps it:

  (m) live            ``--calls`` sequential GETs (distinct URLs, ~40-byte JSON answers)
  (n) record          the same inside ``agentreplay.record``
  (r) replay          the same inside ``agentreplay.replay`` of (n)'s cassette
  (o) OpenTelemetry   the same traced by opentelemetry-instrumentation-httpx (SDK
                      tracer provider, batch span processor, in-memory exporter;
                      httpx only; needs the ``bench`` extra)
  (sm) stream live    ``--streams`` POSTs each answered by ``--chunks`` SSE chunks,
                      read with ``iter_raw``
  (sn) stream record  the same inside ``agentreplay.record``
  (sr) stream replay  the same inside ``agentreplay.replay`` of (sn)'s cassette

The modes run interleaved, ``--repeat`` times after an untimed warm-up round;
figures are medians, in wall and in CPU time of this process (the client and
agentreplay's writer thread). Each is timed from inside the session, once it
has started (a cost per run, measured by bench_clock.py), to after it ended
(so the writer's last frames, index and close count); OpenTelemetry's from the
first call to after its batch processor's flush. Replay modes are checked
not to reach the transport.

Targets: recording (n) - (m) and replay (r) - (m) <= 20 us per exchange;
streamed recording (sn) - (sm) <= 2 us per chunk. Exit status 1 if one is missed.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_perf = time.perf_counter  # bound before agentreplay hooks time.perf_counter
_cpu = time.process_time  # CPU of this process (client and writer thread): less load-bound

from _common import code_version, load_average  # noqa: E402

import agentreplay  # noqa: E402

EXCHANGE_TARGET_US = 20.0
CHUNK_TARGET_US = 2.0


class Counter:
    """How many requests reached the transport."""

    def __init__(self) -> None:
        self.n = 0


def handlers(mod: Any, chunks: int, counter: Counter) -> Callable[[Any], Any]:
    class Chunks(mod.SyncByteStream):  # type: ignore[misc]
        def __iter__(self) -> Iterator[bytes]:
            for i in range(chunks):
                yield b'data: {"choices": [{"delta": {"content": "tok%d"}}]}\n\n' % i
            yield b"data: [DONE]\n\n"

    def handler(request: Any) -> Any:
        counter.n += 1
        if request.method == "POST":
            return mod.Response(
                200, headers=[("content-type", "text/event-stream")], stream=Chunks()
            )
        n = request.url.path.rsplit("/", 1)[-1]
        body = json.dumps({"tool": n, "answer": "result-" + n}).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
        return mod.Response(200, headers=headers, stream=mod.ByteStream(body))

    return handler


def gets(client: Any, n: int) -> None:
    for i in range(n):
        response = client.get(f"http://tools.test/tool/{i}")
        if response.status_code != 200 or not response.content.startswith(b'{"tool": '):
            raise SystemExit(f"bad response to /tool/{i}")


def streams(client: Any, n: int, chunks: int) -> None:
    for i in range(n):
        with client.stream("POST", "http://llm.test/v1/chat", json={"turn": i}) as response:
            got = sum(1 for _ in response.iter_raw())
        if got != chunks + 1:
            raise SystemExit(f"stream {i} gave {got} chunks, not {chunks + 1}")


def otel_transport(mod: Any, inner: Any) -> tuple[Any, Any]:
    """(transport, exporter): ``inner`` traced by OpenTelemetry's httpx instrumentation."""
    from opentelemetry.instrumentation.httpx import (  # type: ignore[import-not-found, unused-ignore]
        SyncOpenTelemetryTransport,
    )
    from opentelemetry.sdk.trace import TracerProvider  # type: ignore[import-not-found, unused-ignore]
    from opentelemetry.sdk.trace.export import (  # type: ignore[import-not-found, unused-ignore]
        BatchSpanProcessor,
    )
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # type: ignore[import-not-found, unused-ignore]
        InMemorySpanExporter,
    )

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return SyncOpenTelemetryTransport(inner, tracer_provider=provider), (provider, exporter)


def bench(lib: str, args: argparse.Namespace, tmp: Path) -> dict[str, list[float]]:
    mod = importlib.import_module(lib)
    counter = Counter()
    handler = handlers(mod, args.chunks, counter)
    modes = ["m", "n", "r", "sm", "sn", "sr"]
    otel = lib == "httpx" and not args.no_otel
    if otel:
        modes.insert(3, "o")
    results: dict[str, list[float]] = {mode: [] for mode in modes}
    results.update({f"{mode} cpu": [] for mode in modes})
    for rep in range(-1, args.repeat):
        calls = args.calls if rep >= 0 else 50
        n_streams = args.streams if rep >= 0 else 2
        cassette, streamed = tmp / f"{lib}-{rep}.cassette", tmp / f"{lib}-{rep}-s.cassette"
        for mode in modes:
            provider = None
            transport: Any = mod.MockTransport(handler)
            if mode == "o":
                transport, provider = otel_transport(mod, transport)
            session: Any = None
            if mode in ("n", "sn"):
                session = agentreplay.record(cassette if mode == "n" else streamed)
            elif mode in ("r", "sr"):
                session = agentreplay.replay(cassette if mode == "r" else streamed)
            work: Callable[[Any], None]
            if mode.startswith("s"):
                work = functools.partial(streams, n=n_streams, chunks=args.chunks)
            else:
                work = functools.partial(gets, n=calls)
            with mod.Client(transport=transport) as client:
                gc.collect()
                before = counter.n
                if session is None:
                    t0, c0 = _perf(), _cpu()
                    work(client)
                else:
                    with session:
                        t0, c0 = _perf(), _cpu()
                        work(client)
                if provider is not None:
                    provider[0].force_flush()  # the exporter's work is part of the span's
                elapsed, cpu = _perf() - t0, _cpu() - c0
                if mode in ("r", "sr") and counter.n != before:
                    raise SystemExit(f"{lib} ({mode}) reached the transport")
            if provider is not None:
                provider[0].shutdown()
                if rep >= 0 and len(provider[1].get_finished_spans()) != calls:
                    raise SystemExit("OpenTelemetry did not record a span per request")
            if rep >= 0:
                results[mode].append(elapsed)
                results[f"{mode} cpu"].append(cpu)
                print(f"  {lib} rep {rep + 1} ({mode}) {elapsed * 1e3:8.1f} ms", file=sys.stderr)
    return results


def report(lib: str, results: dict[str, list[float]], args: argparse.Namespace) -> bool:
    calls, chunks = args.calls, args.streams * (args.chunks + 1)

    def per(mode: str, what: str = "") -> float:
        unit: int = chunks if mode.startswith("s") else calls
        return float(statistics.median(results[mode + what])) / unit * 1e6

    labels = {
        "m": "live",
        "n": "record",
        "r": "replay",
        "o": "OpenTelemetry span",
        "sm": "stream live",
        "sn": "stream record",
        "sr": "stream replay",
    }
    print(f"\n{lib}.Client on MockTransport, medians of {args.repeat}:      wall      CPU")
    for mode, label in labels.items():
        if mode in results:
            unit = "chunk" if mode.startswith("s") else "exchange"
            wall, cpu = per(mode), per(mode, " cpu")
            print(f"  ({mode}) {label:<20} {wall:9.2f} {cpu:9.2f}  us per {unit}")
    checks = [
        ("recording cost (n) - (m)", "n", "m", EXCHANGE_TARGET_US, "exchange"),
        ("replay cost (r) - (m)", "r", "m", EXCHANGE_TARGET_US, "exchange"),
        ("streamed recording (sn) - (sm)", "sn", "sm", CHUNK_TARGET_US, "chunk"),
        ("streamed replay (sr) - (sm)", "sr", "sm", None, "chunk"),
        ("OpenTelemetry (o) - (m)", "o", "m", None, "exchange"),
    ]
    failed = False
    for label, x, y, target, unit in checks:
        if x not in results:
            continue
        wall, cpu = per(x) - per(y), per(x, " cpu") - per(y, " cpu")
        text = f"  {label:<32} {wall:+9.2f} wall {cpu:+9.2f} CPU  us per {unit:<8}"
        if target is None:
            print(text)
            continue
        ok = wall <= target
        failed |= not ok
        print(f"{text} target <= {target:g}  {'PASS' if ok else 'FAIL'}")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--clients", default="httpx,httpx2")
    parser.add_argument("--no-otel", action="store_true")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, nproc {os.cpu_count()}, {platform.platform()}")
    print(f"code: {code_version()}")
    print(f"load average at start: {load_average()}")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench_paths-") as tmp:
        for lib in args.clients.split(","):
            failed |= report(lib, bench(lib, args, Path(tmp)), args)
    print(f"\nload average at end: {load_average()}")
    print("result:", "FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
