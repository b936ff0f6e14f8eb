# Outputs written to a local directory (/tmp), then copied to train_url file by file; DEVICE_ID and RANK_SIZE read
# with defaults; a bytes/str mix as Python 2 code has it.
from __future__ import print_function

import argparse
import os
import tempfile

import moxing as mox

parser = argparse.ArgumentParser()
parser.add_argument('--data_url')
parser.add_argument('--train_url')
args, _ = parser.parse_known_args()
device, ranks = int(os.environ.get('DEVICE_ID', 0)), int(os.environ.get('RANK_SIZE', 1))

out = tempfile.mkdtemp(prefix='outputs-')
with open(os.path.join(out, 'weights.bin'), 'wb') as f:
    f.write(b'\x00\x01\x02')
with open(os.path.join(out, 'log.txt'), 'w') as f:
    f.write('device %d of %d\n' % (device, ranks))
for name in sorted(os.listdir(out)):
    mox.file.copy(os.path.join(out, name), os.path.join(args.train_url, name))
print('copied', mox.file.list_directory(args.train_url))
