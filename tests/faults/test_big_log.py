"""A failing job with a huge log: the report and the live echo in O(tail) memory, the echo to the log's last line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

LOG_MB = 150
LIMIT_MIB = 100

BOOT = textwrap.dedent("""\
    import sys
    line = "x" * 1023 + "\\n"
    block = line * 1024
    for _ in range(%d):
        sys.stdout.write(block)
    print("the very last line", flush=True)
    sys.exit(4)
""" % LOG_MB)

SCRIPT = textwrap.dedent("""\
    import sys
    from pytest_modelarts import Estimator, JobFailedError, Session
    code, root = sys.argv[1:3]
    session = Session(local_root=root, stream_logs=True, stop_grace_period=1.0)
    est = Estimator(modelarts_session=session, code_dir=code, boot_file="train.py", train_instance_type="local",
                    train_instance_count=1)
    try:
        est.fit(wait=True, job_name="big-log")
    except JobFailedError as exc:
        tail = exc.log_tail
    # VmHWM: this process's own peak (ru_maxrss keeps the parent's across fork and exec: pytest's, here)
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) // 1024
    sys.stderr.write(f"PEAK_MIB={peak}\\nTAIL_LAST={tail[-1]}\\n")
""")


def test_a_failing_job_with_a_huge_log_is_reported_and_echoed_in_bounded_memory(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(BOOT)
    echoed = tmp_path / "echo.txt"
    with open(echoed, "wb") as out:
        proc = subprocess.run([sys.executable, "-c", SCRIPT, str(code), str(tmp_path / "root")], stdout=out,
                              stderr=subprocess.PIPE, timeout=300)
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, err[-3000:]
    facts = dict(line.split("=", 1) for line in err.splitlines() if line.startswith(("PEAK_MIB=", "TAIL_LAST=")))
    assert facts["TAIL_LAST"] == "the very last line"
    assert int(facts["PEAK_MIB"]) < LIMIT_MIB, f"peak {facts['PEAK_MIB']} MiB for a {LOG_MB} MB log"
    assert echoed.stat().st_size > LOG_MB * 1024 * 1024  # the whole log was echoed ...
    assert _last_line(echoed) == "the very last line"  # ... to its end


def _last_line(path: Path) -> str:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 4096))
        return fh.read().decode(errors="replace").splitlines()[-1]
