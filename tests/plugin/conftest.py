"""Plugin tests: each builds a small project with ``pytester`` and runs pytest on it with our plugin."""

from __future__ import annotations

import pytest

#: a boot file that runs in milliseconds: JSON-lines and key=value metrics, one output file, a chosen exit
TRAIN = """\
import argparse, json, os, sys, time
p = argparse.ArgumentParser()
p.add_argument('--data_url'); p.add_argument('--train_url')
p.add_argument('--epochs', type=int, default=3)
p.add_argument('--lr', type=float, default=0.01)
p.add_argument('--exit', type=int, default=0)
p.add_argument('--sleep', type=float, default=0)
a, _ = p.parse_known_args()
files = sorted(os.listdir(a.data_url)) if os.path.isdir(a.data_url) else []
print('inputs:', ','.join(files) or '-')
print('argv:', ' '.join(sys.argv[1:]))
for e in range(a.epochs):
    print(json.dumps({'epoch': e + 1, 'loss': round(1.0 / (e + 1), 4)}))
print('step=final acc=0.9')
with open(os.path.join(a.train_url, 'model.bin'), 'w') as fh:
    fh.write('weights')
time.sleep(a.sleep)
if a.exit:
    print('boom: failing on purpose', file=sys.stderr)
    sys.exit(a.exit)
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester project with ``code/train.py`` (the boot file above) and ``data/small`` + ``data/full`` inputs."""
    pytester.mkdir("code")
    (pytester.path / "code" / "train.py").write_text(TRAIN)
    for name, files in (("small", ["a.csv"]), ("full", ["a.csv", "b.csv", "c.csv"])):
        folder = pytester.path / "data" / name
        folder.mkdir(parents=True)
        for f in files:
            (folder / f).write_text("x\n1\n")
    # in-process runs re-import nothing: pytest_modelarts was imported (not rewritten) by the outer run
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nfilterwarnings = ignore::pytest.PytestAssertRewriteWarning\n")
    return pytester
