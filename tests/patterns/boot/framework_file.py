# The documented home of file (moxing.framework) and a PyTorch script's import; hyperparameters through moxing.
import argparse
import os

import moxing.pytorch as mox
from moxing.framework import file

parser = argparse.ArgumentParser()
parser.add_argument('--data_url')
parser.add_argument('--train_url')
parser.add_argument('--lr', type=float, default=0.1)
args, _ = parser.parse_known_args()

assert file is mox.file and file.is_directory(args.data_url)
mox.set_hyper_parameter('batch_size', 8)
with file.File(os.path.join(args.data_url, 'sub', 'c.csv'), 'r') as f:
    header = f.readline().strip()
    rows = f.readlines()
mode = mox.ModeKeys.TRAIN
report = '%s rows=%d lr=%s batch=%s mode=%s' % (header, len(rows), mox.get_hyper_parameter('lr'),
                                                 mox.get_hyper_parameter('batch_size'), mode)
file.write(os.path.join(args.train_url, 'report.txt'), report)
print(report)
