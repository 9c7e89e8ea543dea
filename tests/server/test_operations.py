"""Operations: graceful SIGTERM (requests in flight finish, none accepted is lost), several worker
processes behind one port, readiness."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import tritonclient.grpc as grpcclient
from support.server import ServerProcess

from hotcrm_ai_plugins.models.examples import LEAD_WARM

ROWS = 4_000


def _lead_body(n: int) -> dict:
    dt = {str: "BYTES", int: "INT64", float: "FP64"}
    return {
        "inputs": [{"name": k, "datatype": dt[type(v)], "shape": [n], "data": [v] * n} for k, v in LEAD_WARM.items()],
        "parameters": {"use_cache": False},
    }


@pytest.fixture()
def plain_server(tmp_path: Path) -> ServerProcess:
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text("[server]\ngraceful_timeout_s = 60\n")
    proc = ServerProcess(config).start(tmp_path / "server.log")
    yield proc
    proc.stop()


def _in_flight(server: ServerProcess) -> float:
    text = httpx.get(f"http://{server.url}/metrics", timeout=10).text
    match = re.search(r"^hotcrm_ai_server_requests_in_flight (\S+)$", text, re.M)
    return float(match.group(1)) - 1 if match else 0.0  # this scrape is in flight too


def _wait_in_flight(server: ServerProcess, n: int) -> None:
    deadline = time.monotonic() + 60
    while _in_flight(server) < n:
        assert time.monotonic() < deadline, "requests never reached the server"
        time.sleep(0.02)


@pytest.mark.slow
def test_sigterm_during_a_batch_loses_no_accepted_request(plain_server: ServerProcess) -> None:
    content = json.dumps(_lead_body(ROWS)).encode()
    clients = [httpx.Client(timeout=180) for _ in range(12)]
    outcomes: list[object] = []
    lock = threading.Lock()

    def call(client: httpx.Client) -> None:
        try:
            r = client.post(f"http://{plain_server.url}/v2/models/lead-scoring-v1/infer", content=content)
            outcome: object = (r.status_code, len(r.json()["outputs"][0]["data"]) if r.status_code == 200 else 0)
        except httpx.ConnectError:
            outcome = "refused"  # never accepted: the listener was already closed
        except httpx.HTTPError as exc:
            outcome = f"lost: {type(exc).__name__}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    _wait_in_flight(plain_server, 3)
    assert plain_server.proc is not None
    plain_server.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(180)
    for c in clients:
        c.close()
    assert plain_server.proc.wait(120) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once drained
    assert "Application shutdown complete" in plain_server.log()
    assert len(outcomes) == 12
    assert not [o for o in outcomes if isinstance(o, str) and o.startswith("lost")], outcomes
    served = [o for o in outcomes if o == (200, ROWS)]
    assert len(served) >= 3, outcomes  # the requests in flight finished with full answers
    assert all(o in ((200, ROWS), (503, 0), "refused") for o in outcomes), outcomes
    assert "shutting down" in plain_server.log()


def test_draining_server_turns_unready_and_refuses_new_requests(plain_server: ServerProcess) -> None:
    """While a long request is in flight after SIGTERM, readiness is false and new requests are refused."""
    body = _lead_body(ROWS * 4)
    done: list[int] = []
    keep_alive = httpx.Client(base_url=f"http://{plain_server.url}", timeout=120)
    assert keep_alive.get("/v2/health/ready").status_code == 200
    content = json.dumps(body).encode()
    t = threading.Thread(
        target=lambda: done.append(
            httpx.post(
                f"http://{plain_server.url}/v2/models/lead-scoring-v1/infer", content=content, timeout=120
            ).status_code
        )
    )
    t.start()
    _wait_in_flight(plain_server, 1)
    assert plain_server.proc is not None
    plain_server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    try:
        status = keep_alive.get("/v2/health/ready").status_code
        assert status == 503
    except httpx.HTTPError:
        pass  # the idle keep-alive connection was closed: refused, as it should be
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{plain_server.url}/v2", timeout=5)
    t.join(180)
    keep_alive.close()
    assert done == [200]
    assert plain_server.proc.wait(60) in (0, -signal.SIGTERM)


@pytest.mark.slow
def test_workers_share_the_ports(tmp_path: Path) -> None:
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text("")
    proc = ServerProcess(config, workers=2).start(tmp_path / "server.log", timeout=120)
    try:
        pids: set[str] = set()
        deadline = time.monotonic() + 60
        while len(pids) < 2 and time.monotonic() < deadline:
            with httpx.Client(timeout=30) as c:  # a new connection each time
                r = c.post(
                    f"http://{proc.url}/v2/models/sentiment-analysis-v1/infer",
                    json={"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["fine"]}]},
                )
                if r.status_code == 503:  # the other worker is still loading: readiness is per worker
                    assert "starting" in r.json()["error"]
                    time.sleep(0.1)
                    continue
                assert r.status_code == 200
            pids = set(re.findall(r" (\d+) INFO hotcrm_ai_server.access: .*infer", proc.log()))
        assert len(pids) == 2, proc.log()[-2000:]
        grpc = grpcclient.InferenceServerClient(url=proc.grpc_url)
        assert grpc.is_server_ready()
        grpc.close()
    finally:
        assert proc.stop(120) == 0
