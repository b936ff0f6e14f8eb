# The model-zoo adapter pattern: the first device of each node copies data_url to /cache (others wait on a lock
# file there), training writes to /cache/train, which is copied back to train_url at the end.
import argparse
import os
import time

import moxing as mox

DEVICE_ID = int(os.getenv('DEVICE_ID', '0'))
RANK_SIZE = int(os.getenv('RANK_SIZE', '1'))
RANK_ID = int(os.getenv('RANK_ID', '0'))
JOB_ID = os.getenv('JOB_ID', 'default')

parser = argparse.ArgumentParser()
parser.add_argument('--data_url', type=str, default='')
parser.add_argument('--train_url', type=str, default='')
parser.add_argument('--epochs', type=int, default=1)
args, unknown = parser.parse_known_args()

local_data, local_train = '/cache/data', '/cache/train'
lock = '/cache/data_ready.lock'
if DEVICE_ID % 8 == 0 and not os.path.exists(lock):
    mox.file.copy_parallel(args.data_url, local_data)
    open(lock, 'w').close()
while not os.path.exists(lock):
    time.sleep(0.1)

rows = 0
for name in sorted(n for n in os.listdir(local_data) if n.endswith('.csv')):
    with open(os.path.join(local_data, name)) as f:
        rows += sum(1 for _ in f)
os.makedirs(os.path.join(local_train, 'ckpt'), exist_ok=True)
with open(os.path.join(local_train, 'ckpt', 'model-%d.txt' % args.epochs), 'w') as f:
    f.write('rows=%d rank=%d/%d job=%s' % (rows, RANK_ID, RANK_SIZE, JOB_ID))
mox.file.copy_parallel(local_train, args.train_url)
print('trained on', rows, 'rows; ignored', unknown)
