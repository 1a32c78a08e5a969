"""Warm kernels: nothing leaks from one notebook into the next, and a warm run writes the same
report as a new kernel per notebook (the papermill CLI's way)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from csm_helpers.core.errors import CsmError, ReportError
from csm_helpers.pipeline.execute import execute_stage
from csm_helpers.pipeline.export import export_html
from csm_helpers.pipeline.kernels import WarmKernel
from csm_helpers.study.stages import notebooks_dir

from .conftest import ROOT

LEAKY = '''
import logging, os, sys, warnings
import matplotlib as mpl, matplotlib.pyplot as plt, numpy as np, pandas as pd
LEAKED_VARIABLE = segment
os.environ["CSM_LEAK_TEST"] = "1"
sys.path.append("/csm-leak")
os.chdir("/")
warnings.simplefilter("error")
mpl.rcParams["lines.linewidth"] = 9.5
np.set_printoptions(precision=2)
np.seterr(all="raise")
pd.set_option("display.max_rows", 3)
logging.root.setLevel(logging.DEBUG)
figure = plt.figure()
'''

PROBE = '''
import logging, os, sys, warnings
import matplotlib as mpl, matplotlib.pyplot as plt, numpy as np, pandas as pd
problems = []
if "LEAKED_VARIABLE" in globals() or "figure" in globals():
    problems.append("a variable of the previous notebook")
if "CSM_LEAK_TEST" in os.environ:
    problems.append("an environment variable")
if "/csm-leak" in sys.path:
    problems.append("sys.path")
if os.getcwd() != expected_cwd:
    problems.append(f"cwd {os.getcwd()}")
if ("error", None, Warning, None, 0) in warnings.filters:  # what simplefilter("error") adds
    problems.append("a warnings filter")
if mpl.rcParams["lines.linewidth"] == 9.5:
    problems.append("rcParams")
if np.get_printoptions()["precision"] != 8 or np.geterr()["divide"] != "warn":
    problems.append("numpy options")
if pd.get_option("display.max_rows") != 60:
    problems.append("pandas options")
if logging.root.level != logging.WARNING:
    problems.append("logging level")
if plt.get_fignums():
    problems.append("an open figure")
assert not problems, "leaked: " + ", ".join(problems)
print("clean")
'''


def _notebook(path: Path, body: str, params: str) -> Path:
    nb = new_notebook(cells=[new_code_cell(params), new_code_cell(body)])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def kernel():
    with WarmKernel(cwd=notebooks_dir()) as k:
        yield k


@pytest.fixture
def probes(tmp_path):
    leaky = _notebook(tmp_path / "leaky.ipynb", LEAKY, 'segment: str = "all"')
    probe = _notebook(tmp_path / "probe.ipynb", PROBE, 'expected_cwd: str = ""')
    return leaky, probe


def test_reset_leaves_nothing_of_the_previous_notebook(kernel, probes, tmp_path):
    leaky, probe = probes
    cwd = str(notebooks_dir())
    # the probe passes in a kernel that ran nothing else ...
    kernel.execute_notebook(probe, tmp_path / "p0.ipynb", {"expected_cwd": cwd})
    # ... and after a notebook that changed every kind of state it checks
    kernel.execute_notebook(leaky, tmp_path / "l1.ipynb", {"segment": "region=Hanoi"})
    nb = kernel.execute_notebook(probe, tmp_path / "p1.ipynb", {"expected_cwd": cwd})
    assert "clean" in nb.cells[-1].outputs[0]["text"]


def test_probe_detects_the_leaks_when_the_reset_is_skipped(kernel, probes, tmp_path):
    """The no-leak test can fail: without the reset, the probe sees every leak."""
    leaky, probe = probes
    kernel.execute_notebook(leaky, tmp_path / "l1.ipynb", {"segment": "region=Hanoi"})
    with pytest.raises(ReportError) as info:  # same kernel, no reset in between
        execute_stage(probe, tmp_path / "p1.ipynb", {"expected_cwd": str(notebooks_dir())}, km=kernel.km)
    for what in ("a variable of the previous notebook", "an environment variable", "sys.path", "cwd /",
                 "a warnings filter", "rcParams", "numpy options", "pandas options", "logging level"):
        assert what in str(info.value)  # (an open figure is closed by the inline backend itself)
    kernel.restart()  # leave a clean kernel to the next test


def test_kernel_survives_many_notebooks_without_leaking_sockets(kernel, probes, tmp_path):
    _, probe = probes
    kernel.execute_notebook(probe, tmp_path / "w.ipynb", {"expected_cwd": str(notebooks_dir())})
    me = psutil.Process()
    before, starts = me.num_fds(), kernel.starts
    for i in range(8):
        kernel.execute_notebook(probe, tmp_path / f"p{i}.ipynb", {"expected_cwd": str(notebooks_dir())})
    assert kernel.starts == starts  # no restart: the same kernel ran all of them
    assert me.num_fds() - before < 8  # no client is opened per notebook (or papermill's would be closed)


def test_notebooks_get_only_their_own_output(kernel, tmp_path):
    """A warm kernel also runs code of its own between notebooks (the reset, a report summary,
    code run in between), and all of it prints: none of it may show up in a notebook, and each
    notebook gets all of its own output, in order."""
    talk = _notebook(tmp_path / "talk.ipynb", "for i in range(3):\n    print('nb', segment, i)\ndisplay(segment)",
                     'segment: str = "all"')
    for k in range(4):
        kernel.run(f"print('between {k}'); import sys; print('to stderr', file=sys.stderr)")
        nb = kernel.execute_notebook(talk, tmp_path / f"t{k}.ipynb", {"segment": f"s{k}"})
        texts = [o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) for o in nb.cells[-1].outputs]
        assert "".join(texts) == "".join(f"nb s{k} {i}\n" for i in range(3)) + f"'s{k}'"


@pytest.mark.parametrize("kind, content", [
    ("stream", {"name": "stderr", "text": "warn\n"}),
    ("display_data", {"metadata": {"image/svg+xml": {"alt": "a"}}, "data": {"text/plain": "x", "text/html": "<b>x</b>"}}),
    ("execute_result", {"metadata": {}, "data": {"text/plain": "1"}, "execution_count": 3}),
    ("error", {"ename": "ValueError", "evalue": "bad", "traceback": ["line 1", "line 2"]}),
])
def test_output_node_is_nbformats_output_without_the_per_output_check(kind, content):
    from nbformat.v4 import output_from_msg

    from csm_helpers.pipeline.warm_engine import output_node

    msg = {"header": {"msg_type": kind}, "content": {**content, "extra": "ignored"}}
    ours = output_node(msg)
    assert ours == output_from_msg(msg)
    assert type(ours) is type(output_from_msg(msg))
    if "data" in content:
        assert isinstance(ours.data, nbformat.NotebookNode)
    with pytest.raises(ValueError):
        output_node({"header": {"msg_type": "status"}, "content": {}})


def test_dead_kernel_is_replaced(kernel, probes, tmp_path):
    _, probe = probes
    dies = _notebook(tmp_path / "dies.ipynb", "import os\nos._exit(3)", 'segment: str = "all"')
    old_pid, starts = kernel.pid, kernel.starts
    with pytest.raises(Exception):  # noqa: B017 - nbclient's DeadKernelError or a papermill error
        kernel.execute_notebook(dies, tmp_path / "d.ipynb", {"segment": "all"})
    nb = kernel.execute_notebook(probe, tmp_path / "p.ipynb", {"expected_cwd": str(notebooks_dir())})
    assert "clean" in nb.cells[-1].outputs[0]["text"]
    assert kernel.starts == starts + 1 and kernel.pid != old_pid


def test_time_limit_interrupts_a_long_cell(kernel, probes, tmp_path):
    _, probe = probes
    slow = _notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(120)", 'segment: str = "all"')
    t0 = time.monotonic()
    with pytest.raises(CsmError), kernel.time_limit(2):
        kernel.execute_notebook(slow, tmp_path / "s.ipynb", {"segment": "all"})
    assert kernel.timed_out
    assert time.monotonic() - t0 < 30
    nb = kernel.execute_notebook(probe, tmp_path / "p.ipynb", {"expected_cwd": str(notebooks_dir())})
    assert "clean" in nb.cells[-1].outputs[0]["text"]


def test_user_error_in_a_notebook_comes_back_as_csm_error(kernel, tmp_path):
    bad = _notebook(tmp_path / "bad.ipynb",
                    "from csm_helpers.workbook.context import open_stage\n"
                    "open_stage('04_analysis', segment=segment)", 'segment: str = "all"')
    with pytest.raises(CsmError, match="segment column 'city' is not one of the study's segment columns"):
        kernel.execute_notebook(bad, tmp_path / "b.ipynb", {"segment": "city=X"})


def _html(nb) -> str:
    meta = {"stage_title": "05 · Action", "study": "S", "facts": [("Segment", "x")], "summary": None,
            "version": "t", "footer": "f", "organisation": ""}
    return export_html(nb, meta)


@pytest.mark.slow
def test_stage_report_is_the_same_warm_after_another_segment_as_in_a_new_kernel(tmp_path):
    """The real stage notebooks: Can Tho's action report is identical whether it runs in a new
    kernel or in a warm kernel that has just run Hanoi's analysis and action reports."""
    study = str(ROOT / "data" / "sample" / "study.yaml")
    nbs = notebooks_dir()
    cold_dir, warm_dir, other = tmp_path / "cold", tmp_path / "warm", tmp_path / "other"
    cold = execute_stage(nbs / "05_action_progress.ipynb", tmp_path / "cold.ipynb",
                         {"study_path": study, "segment": "region=Can Tho", "output_dir": str(cold_dir)})
    with WarmKernel(cwd=nbs) as k:
        for stage in ("04_analysis", "05_action_progress"):
            k.execute_notebook(nbs / f"{stage}.ipynb", tmp_path / f"h{stage}.ipynb",
                               {"study_path": study, "segment": "region=Hanoi", "output_dir": str(other)})
        warm = k.execute_notebook(nbs / "05_action_progress.ipynb", tmp_path / "warm.ipynb",
                                  {"study_path": study, "segment": "region=Can Tho", "output_dir": str(warm_dir)})
    assert k.starts == 1
    cold_html, warm_html = _html(cold), _html(warm)
    assert cold_html.count('<svg xmlns="http://www.w3.org/2000/svg" class="csm-chart') >= 3
    assert warm_html == cold_html
    for name in ("05_action_register.csv", "_stage_metrics/05_action_progress.json"):
        assert (warm_dir / name).read_bytes() == (cold_dir / name).read_bytes(), name


def test_shutdown_reaps_the_kernel_process():
    """``shutdown`` kills the kernel and reaps it itself (jupyter_client's own kill would then
    poll it every 0.1 s): no process is left, not even a zombie."""
    k = WarmKernel(prelude=()).start()
    pid = k.pid
    k.shutdown()
    assert not psutil.pid_exists(pid)


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets: Linux and macOS")
def test_a_warm_kernel_talks_through_sockets_of_its_own_and_removes_them():
    """TCP ports picked as free can be taken by another process before the kernel binds them
    (a second csm command, a dask worker): the kernel then dies or never answers. Unix
    sockets in a private folder cannot be taken; the folder goes with the kernel."""
    k = WarmKernel(prelude=()).start()
    folder = Path(k.km.ip).parent
    assert k.km.transport == "ipc" and folder.name.startswith("csm-kernel-")
    assert len(list(folder.iterdir())) == 5  # shell, iopub, stdin, control, heartbeat
    assert k.run("print(6 * 7)") == "42\n"
    k.shutdown()
    assert not folder.exists()


def test_the_pool_returns_from_wait_launched_once_its_kernel_processes_exist():
    """``csm run`` imports the run machinery only after ``wait_launched``: the kernel's
    process exists by then (it need not be ready). Killed while it starts (Ctrl-C), it leaves
    no connection file behind in the temporary folder."""
    import os

    from csm_helpers.pipeline.pool import KernelPool

    def kernels() -> dict[int, list[str]]:
        return {p.pid: p.cmdline() for p in psutil.Process().children(recursive=True)
                if "ipykernel_launcher" in " ".join(p.cmdline())}

    before = kernels()  # (other tests' kernels may be running)
    pool = KernelPool(1, prelude=())
    try:
        pool.wait_launched(timeout=60)
        new = [cmd for pid, cmd in kernels().items() if pid not in before]
        assert len(new) == 1
        connection_file = new[0][new[0].index("-f") + 1]
        assert os.path.exists(connection_file)
    finally:
        pool.close(kill=True)
    assert not os.path.exists(connection_file)


def test_a_cell_tokenized_once_still_gets_a_transform_registered_later(kernel):
    """A warm kernel tokenizes each distinct cell once (every segment sends the same cells);
    a cleanup transform a notebook registers afterwards still applies to a cell already seen,
    and a magic is still a magic."""
    cell = "x = 'plain'\nprint(x)"
    assert kernel.run(cell).strip() == "plain"
    assert kernel.run(cell).strip() == "plain"  # from the kept transformation
    kernel.run("get_ipython().input_transformers_cleanup.append("
               "lambda lines: [line.replace('plain', 'changed') for line in lines])")
    try:
        assert kernel.run(cell).strip() == "changed"
    finally:
        kernel.run("get_ipython().input_transformers_cleanup.pop()")
    assert kernel.run(cell).strip() == "plain"
    assert kernel.run("%time y = 1\nprint('after magic')").count("after magic") == 1


def test_a_warm_run_writes_no_executed_notebook_but_keeps_a_failed_one(kernel, probes, tmp_path):
    _, probe = probes
    kernel.execute_notebook(probe, tmp_path / "ok.ipynb", {"expected_cwd": str(notebooks_dir())})
    assert not (tmp_path / "ok.ipynb").exists()  # the caller has the notebook: nothing to write
    bad = _notebook(tmp_path / "bad.ipynb", "x = 1\nraise ValueError('planned ' + segment)", 'segment: str = "all"')
    with pytest.raises(ReportError, match="ValueError: planned s1") as info:
        kernel.execute_notebook(bad, tmp_path / "b.ipynb", {"segment": "s1"})
    kept = Path(str(info.value).split("is kept at ")[1].strip())
    failed = nbformat.read(kept, as_version=4)
    error = [o for c in failed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert error and error[0]["evalue"] == "planned s1" and error[0]["traceback"]
    assert not (tmp_path / "b.ipynb").exists()


def test_a_kernel_that_cannot_bind_its_sockets_is_started_again_on_new_ones(monkeypatch):
    """A kernel that cannot bind one of its sockets dies at once: with TCP, another process
    took a port jupyter_client picked as free (nteract/papermill#511); with Unix sockets, their
    folder went away. WarmKernel starts it again on new ones."""
    import socket

    import jupyter_client

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    made = []

    class FirstCannotBind(jupyter_client.AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            if not made:
                if self.transport == "ipc":
                    self.ip = "/nonexistent-csm-folder/k"
                else:  # a port already bound
                    self.cache_ports = False  # (else the provisioner picks the ports itself)
                    self.shell_port = taken.getsockname()[1]
            made.append(self)

    monkeypatch.setattr(jupyter_client, "AsyncKernelManager", FirstCannotBind)
    k = WarmKernel(prelude=())
    try:
        k.start()
        assert len(made) == 2 and (made[0].ip == "/nonexistent-csm-folder/k" if made[0].transport == "ipc"
                                   else made[0].shell_port == taken.getsockname()[1])
        assert k.km is made[1] and k.run("print(6 * 7)") == "42\n" and k.starts == 1
    finally:
        k.shutdown()
        taken.close()


def test_a_kernel_killed_while_it_starts_is_not_started_again(monkeypatch):
    """``csm run`` starts its kernels, then finds the input bad and kills them. A kernel killed
    before it answered died, like one that could not bind its sockets, and was started again
    (up to three times), and the run waited for it. Now the start ends at once, with one
    kernel made, its process gone and its sockets removed."""
    import jupyter_client

    made = []

    class Counted(jupyter_client.AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            made.append(self)

    monkeypatch.setattr(jupyter_client, "AsyncKernelManager", Counted)
    k = WarmKernel(prelude=())
    launched = threading.Event()
    outcome = []

    def start():
        try:
            k.start(launched)
            outcome.append("started")
        except ReportError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=start)
    thread.start()
    assert launched.wait(60)
    pid = k.pid
    k.kill()
    thread.join(60)
    assert not thread.is_alive()
    assert len(outcome) == 1 and "stopped while it started" in outcome[0], outcome
    assert len(made) == 1 and k.km is None and k.starts == 0
    assert pid is not None and not psutil.pid_exists(pid)
    if made[0].transport == "ipc":
        assert not Path(made[0].ip).parent.exists()


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets: Linux and macOS")
def test_socket_folders_of_csm_processes_that_died_are_removed(tmp_path, monkeypatch):
    import subprocess
    import sys
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    (tmp_path / f"csm-kernel-{dead}-abc").mkdir()
    (tmp_path / f"csm-kernel-{dead}-abc" / "k-1").write_text("")
    (tmp_path / f"csm-kernel-{os.getppid()}-def").mkdir()  # a running process's: kept
    k = WarmKernel(prelude=()).start()
    try:
        assert not (tmp_path / f"csm-kernel-{dead}-abc").exists()
        assert (tmp_path / f"csm-kernel-{os.getppid()}-def").exists()
        assert Path(k.km.ip).parent.name.startswith(f"csm-kernel-{os.getpid()}-")
    finally:
        k.shutdown()


# --------------------------------------------------------------------------- one request per notebook
EVERY_KIND = [  # (source, tags): each kind of output nbclient records, and the ways a cell can end
    ("print('a')\ndisplay('b')\nprint('c')", []),
    ("import sys\nprint('d', file=sys.stderr)", []),
    ("from IPython.display import HTML, clear_output\nh = display(HTML('<b>first</b>'), display_id=True)", []),
    ("h.update(HTML('<b>second</b>'))\ndisplay(HTML('<i>other</i>'), display_id='x')", []),
    ("print('gone')\nclear_output(wait=True)\nprint('kept')", []),
    ("print('stays')\nclear_output(wait=True)", []),
    ("%env CSM_ONE_REQUEST=1\nx = 6 * 7", []),
    ("x", []),
    ("import matplotlib.pyplot as plt\nplt.figure(figsize=(1, 1))\nplt.plot([1, 2])\nplt.show()", []),
    ("", []),
    ("raise SystemExit('skipped')", ["skip-execution"]),
    ("1 / 0", ["raises-exception"]),
    ("print('after an allowed error', segment)", []),
    ("raise ValueError('stop ' + segment)", []),
    ("print('never')", []),
]


def _every_kind(path: Path) -> Path:
    cells = [new_code_cell('segment: str = "all"')]
    cells[0].metadata["tags"] = ["parameters"]
    for source, tags in EVERY_KIND:
        cells.append(new_code_cell(source))
        cells[-1].metadata["tags"] = tags
    cells.insert(3, nbformat.v4.new_markdown_cell("A note between the cells"))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _comparable(nb: nbformat.NotebookNode) -> list[tuple]:
    """The cells as a reader sees them: sources, counts and outputs, with consecutive text of
    one stream joined (ipykernel cuts printed text wherever its buffer happens to be sent)."""
    cells = []
    for cell in nb.cells:
        outs: list[dict] = []
        for out in cell.get("outputs", []):
            out = {k: v for k, v in out.items() if k != "transient"}
            if outs and out["output_type"] == "stream" and outs[-1]["output_type"] == "stream" \
                    and outs[-1]["name"] == out["name"]:
                outs[-1] = {**outs[-1], "text": outs[-1]["text"] + out["text"]}
            else:
                outs.append(out)
        status = cell.metadata.get("papermill", {}).get("status")
        cells.append((cell.cell_type, cell.source, cell.get("execution_count"), status, outs))
    return cells


def _kept(info: pytest.ExceptionInfo) -> nbformat.NotebookNode:
    return nbformat.read(Path(str(info.value).split("is kept at ")[1].strip()), as_version=4)


def test_one_request_gives_the_notebook_nbclient_gives(kernel, tmp_path, monkeypatch):
    """The warm kernel runs a notebook's cells in one request (cellrunner). Reference: the same
    notebook run by papermill's own engine (nbclient, a new kernel, one request per cell):
    every output, count, display update, clear_output, magic, figure, skipped cell, allowed
    error and the failing cell's traceback are the same, and the cells after it did not run."""
    nb_path = _every_kind(tmp_path / "every.ipynb")
    with pytest.raises(ReportError, match="ValueError: stop s1") as cold:
        execute_stage(nb_path, tmp_path / "cold.ipynb", {"segment": "s1"})
    import papermill.clientwrap

    def no_nbclient(*args, **kwargs):
        raise AssertionError("the warm kernel ran the notebook through nbclient")

    monkeypatch.setattr(papermill.clientwrap.PapermillNotebookClient, "execute", no_nbclient)
    with pytest.raises(ReportError, match="ValueError: stop s1") as warm:
        kernel.execute_notebook(nb_path, tmp_path / "warm.ipynb", {"segment": "s1"})
    reference, ours = _comparable(_kept(cold)), _comparable(_kept(warm))
    assert ours == reference
    texts = "".join(o.get("text", "") for c in ours for o in c[4])
    assert "after an allowed error s1" in texts and "never" not in texts and "gone" not in texts
    assert "stays" in texts  # a clear_output(wait=True) with no later output in its cell clears nothing
    assert any("image/png" in o.get("data", {}) for c in ours for o in c[4])
    assert [o["data"]["text/html"] for c in ours for o in c[4] if "text/html" in o.get("data", {})] == [
        "<b>second</b>", "<i>other</i>"]


def test_one_request_stops_a_cell_at_its_time_limit_and_the_kernel_goes_on(kernel, probes, tmp_path):
    _, probe = probes
    slow = _notebook(tmp_path / "slow.ipynb", "import time\nwhile True:\n    time.sleep(0.05)", 'segment: str = "all"')
    t0 = time.monotonic()
    with pytest.raises(ReportError, match=r"CellTimeoutError: the cell did not finish within 1 s"):
        kernel.execute_notebook(slow, tmp_path / "s.ipynb", {"segment": "all"}, timeout=1)
    assert time.monotonic() - t0 < 15
    nb = kernel.execute_notebook(probe, tmp_path / "p.ipynb", {"expected_cwd": str(notebooks_dir())})
    assert "clean" in nb.cells[-1].outputs[0]["text"]


def test_a_notebook_with_top_level_await_runs_through_nbclient(kernel, tmp_path):
    """ipykernel runs a cell with top-level ``await`` on its own event loop, which the cells
    of one request cannot use: such a notebook goes to nbclient, whole."""
    nb_path = _notebook(tmp_path / "aw.ipynb", "import asyncio\nawait asyncio.sleep(0)\nprint('awaited', segment)",
                        'segment: str = "all"')
    nb = kernel.execute_notebook(nb_path, tmp_path / "a.ipynb", {"segment": "s2"})
    assert nb.cells[-1].outputs[0]["text"] == "awaited s2\n"
