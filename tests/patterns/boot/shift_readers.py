# shift('os', 'mox'): the framework's readers and plain open/os.listdir/glob take the obs:// URLs of a v1 job.
import argparse
import glob
import os

import moxing as mox

mox.file.shift('os', 'mox')

parser = argparse.ArgumentParser()
parser.add_argument('--data_url')
parser.add_argument('--train_url')
args, _ = parser.parse_known_args()

csvs = sorted(glob.glob(os.path.join(args.data_url, '*.csv')))
total = 0
for path in csvs:
    with open(path) as f:
        total += sum(int(line) for line in f if line.strip())
os.makedirs(os.path.join(args.train_url, 'metrics'))
with open(os.path.join(args.train_url, 'metrics', 'total.txt'), 'w') as f:
    f.write('%d from %s' % (total, sorted(os.listdir(args.data_url))))
print('total', total, 'of', len(csvs), 'files')
