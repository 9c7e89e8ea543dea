"""hotcrm-ai serve (issue 15): single-row infer over HTTP keep-alive against a bare Starlette endpoint
calling the same ``AICloud.predict`` on the same stack (uvicorn, one worker, predictions in a thread),
p50 and p99; 10,000-row infer throughput against in-process ``batch_predict``; and, with
``--mlserver PATH`` (the ``mlserver`` script of a separate venv with mlserver, mlserver-sklearn and
pandas: its protobuf pin conflicts with ours), single-row throughput and p99 against MLServer serving
the lead model as a scikit-learn pipeline trained on the same data (``--data``, default ../shared/data).

All servers run as subprocesses on loopback; requests alternate in blocks so drift hits all alike."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _timing import line

from hotcrm_ai_plugins.models.examples import LEAD_HOT

MODEL = "lead-scoring-v1"
SINGLE = 2_000
BLOCK = 10  # small blocks: the load of a shared machine changes within seconds
BIG = 10_000
EXTRA: list[str] = os.environ.get("BENCH_SERVER_ARGS", "").split()


def _baseline_app():  # type: ignore[no-untyped-def]
    """The bare endpoint: JSON features in, ``AICloud.predict`` in a worker thread (the loop's
    executor, as the server runs predictions), JSON out."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from hotcrm_ai import AICloud

    ai = AICloud()

    async def predict(request: Request) -> JSONResponse:
        features = await request.json()
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(None, lambda: ai.predict(MODEL, features, use_cache=False))
        return JSONResponse({"prediction": out.prediction, "confidence": out.confidence})

    return Starlette(routes=[Route("/predict", predict, methods=["POST"])])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code in (200, 405):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


def _latencies(client: httpx.Client, url: str, body: bytes, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.post(url, content=body, headers={"content-type": "application/json"})
        out.append(time.perf_counter() - t)
        r.raise_for_status()
    return out


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


TRAIN_PIPELINE = """
import sys, joblib, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
df = pd.read_csv(sys.argv[1], sep=";")
y = (df.pop("y") == "yes").astype(int)
df = df.drop(columns=["duration"])  # known only after the call, as for our lead model
df.columns = [c.replace(".", "_") for c in df.columns]
cat = [c for c in df.columns if df[c].dtype.kind not in "if"]
num = [c for c in df.columns if c not in cat]
enc = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), cat), ("num", StandardScaler(), num)])
joblib.dump(Pipeline([("enc", enc), ("clf", LogisticRegression(max_iter=2000))]).fit(df, y), sys.argv[2])
"""


def _start_mlserver(mlserver: Path, data: Path, work: Path) -> tuple[subprocess.Popen[bytes], int]:
    python = mlserver.with_name("python")
    (work / "train.py").write_text(TRAIN_PIPELINE)
    subprocess.run(
        [
            str(python),
            str(work / "train.py"),
            str(data / "lead_scoring" / "bank-additional-full.csv"),
            str(work / "model.joblib"),
        ],
        check=True,
    )
    port = _free_port()
    (work / "settings.json").write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "http_port": port,
                "grpc_port": _free_port(),
                "metrics_port": _free_port(),
                "parallel_workers": 0,
            }
        )
    )
    (work / "model-settings.json").write_text(
        json.dumps(
            {
                "name": "lead-sklearn",
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": "v1"},
            }
        )
    )
    proc = subprocess.Popen(
        [str(mlserver), "start", str(work)], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return proc, port


def _mlserver_body() -> bytes:
    dt = {str: "BYTES", int: "INT64", float: "FP64"}
    inputs = []
    for k, v in LEAD_HOT.items():
        t: dict = {"name": k, "datatype": dt[type(v)], "shape": [1], "data": [v]}
        if isinstance(v, str):
            t["parameters"] = {"content_type": "str"}
        inputs.append(t)
    return json.dumps(
        {"parameters": {"content_type": "pd"}, "inputs": inputs, "outputs": [{"name": "predict_proba"}]}
    ).encode()


def main() -> None:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--mlserver", type=Path, default=None, help="mlserver script of a venv with mlserver")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    exe = Path(sys.executable).with_name("hotcrm-ai")
    ours_port, base_port = _free_port(), _free_port()
    procs = [
        subprocess.Popen(
            [str(exe), "serve", "--port", str(ours_port), "--grpc-port", "0", *EXTRA],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, __file__, "--baseline", str(base_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        _wait_ready(f"http://127.0.0.1:{ours_port}/v2/health/ready", procs[0])
        _wait_ready(f"http://127.0.0.1:{base_port}/predict", procs[1])
        dt = {str: "BYTES", int: "INT64", float: "FP64"}

        def oip(rows: int) -> bytes:
            return json.dumps(
                {
                    "inputs": [
                        {"name": k, "datatype": dt[type(v)], "shape": [rows], "data": [v] * rows}
                        for k, v in LEAD_HOT.items()
                    ],
                    "parameters": {"use_cache": False},
                }
            ).encode()

        ours_url = f"http://127.0.0.1:{ours_port}/v2/models/{MODEL}/infer"
        base_url = f"http://127.0.0.1:{base_port}/predict"
        one, base_body = oip(1), json.dumps(LEAD_HOT).encode()
        ours: list[float] = []
        base: list[float] = []
        with httpx.Client(timeout=60) as c_ours, httpx.Client(timeout=60) as c_base:
            _latencies(c_ours, ours_url, one, 200)  # warm-up
            _latencies(c_base, base_url, base_body, 200)
            for _ in range(SINGLE // BLOCK):
                ours += _latencies(c_ours, ours_url, one, BLOCK)
                base += _latencies(c_base, base_url, base_body, BLOCK)
            print(f"single-row infer over HTTP keep-alive, {SINGLE} requests each, model {MODEL}")
            for q in (50, 99):
                print(
                    line(
                        f"p{q} latency: OIP infer vs bare Starlette + predict",
                        _pct(ours, q) * 1e3,
                        _pct(base, q) * 1e3,
                        "ms",
                        "<= 1.2x",
                    )
                )

            if args.mlserver is not None:
                _compare_mlserver(args.mlserver, args.data, Path(tmp.name), procs, c_ours, ours_url, one)

            big = oip(BIG)
            c_ours.post(ours_url, content=big).raise_for_status()
            runs = []
            for _ in range(5):
                t = time.perf_counter()
                r = c_ours.post(ours_url, content=big)
                runs.append(time.perf_counter() - t)
                r.raise_for_status()
        from hotcrm_ai import AICloud

        with AICloud() as ai:
            rows = [LEAD_HOT] * BIG
            ai.batch_predict(MODEL, rows, use_cache=False)
            inproc = []
            for _ in range(5):
                t = time.perf_counter()
                ai.batch_predict(MODEL, rows, use_cache=False)
                inproc.append(time.perf_counter() - t)
        print(
            line(
                f"{BIG:,}-row infer throughput vs in-process batch_predict",
                BIG / statistics.median(runs),
                BIG / statistics.median(inproc),
                "rows/s",
                "informative",
                higher_is_better=True,
            )
        )
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(60)
        tmp.cleanup()


def _compare_mlserver(
    mlserver: Path, data: Path, work: Path, procs: list, c_ours: httpx.Client, ours_url: str, one: bytes
) -> None:
    proc, port = _start_mlserver(mlserver, data, work)
    procs.append(proc)
    _wait_ready(f"http://127.0.0.1:{port}/v2/models/lead-sklearn/ready", proc)
    url, body = f"http://127.0.0.1:{port}/v2/models/lead-sklearn/infer", _mlserver_body()
    ours: list[float] = []
    theirs: list[float] = []
    with httpx.Client(timeout=60) as c_ml:
        _latencies(c_ml, url, body, 200)
        for _ in range(SINGLE // BLOCK):
            ours += _latencies(c_ours, ours_url, one, BLOCK)
            theirs += _latencies(c_ml, url, body, BLOCK)
    print(f"single-row infer vs MLServer (mlserver-sklearn, lead pipeline), {SINGLE} requests each")
    print(
        line(
            "single-row throughput: ours vs MLServer",
            len(ours) / sum(ours),
            len(theirs) / sum(theirs),
            "req/s",
            ">= 1.5x",
            higher_is_better=True,
        )
    )
    print(line("p99 latency: ours vs MLServer", _pct(ours, 99) * 1e3, _pct(theirs, 99) * 1e3, "ms", "<= 1.0x"))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--baseline":
        import uvicorn

        uvicorn.run(_baseline_app(), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
    else:
        main()
