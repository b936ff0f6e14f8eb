# A TensorFlow 1.x era script for an old (v1) job, Python 2/3 code: moxing.tensorflow, obs:// URLs, DLS_* variables,
# MoXing's flags from the command line.
from __future__ import print_function

import argparse
import os
import sys

import moxing.tensorflow as mox

parser = argparse.ArgumentParser()
parser.add_argument('--data_url')
parser.add_argument('--train_url')
args, _ = parser.parse_known_args()

task_index = int(os.environ['DLS_TASK_INDEX'])
task_number = int(os.environ['DLS_TASK_NUMBER'])
assert args.data_url.startswith('obs://') and os.environ['DLS_TRAIN_URL'] == args.train_url
names = mox.file.list_directory(args.data_url, recursive=True)
mox.file.copy_parallel(args.data_url, '/cache/data')
raw = mox.file.read(os.path.join(args.data_url, 'labels.txt'), binary=True)
labels = raw.decode('utf-8').split()  # bytes on every Python
summary = u'python=%d task=%d/%d gpus=%s names=%s labels=%s' % (
    sys.version_info[0], task_index, task_number, mox.get_flag('num_gpus'), ','.join(names), ','.join(labels))
mox.file.write(os.path.join(args.train_url, 'summary.txt'), summary)
print(summary)
