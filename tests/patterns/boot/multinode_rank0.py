# A multi-node job: each node copies data_url to its own /cache, the first of VC_WORKER_HOSTS is the master, and
# only rank 0 writes to train_url (every worker writing the same files is a classic online mistake).
import argparse
import os

import moxing as mox

parser = argparse.ArgumentParser()
parser.add_argument('--data_url')
parser.add_argument('--train_url')
args, _ = parser.parse_known_args()

rank = int(os.environ['VC_TASK_INDEX'])
workers = int(os.environ['VC_WORKER_NUM'])
master = os.environ['VC_WORKER_HOSTS'].split(',')[0]
mox.file.copy_parallel(args.data_url, '/cache/data')
open('/cache/node-%d' % rank, 'w').close()
seen = sorted(n for n in os.listdir('/cache') if n.startswith('node-'))
print('rank %d of %d, master %s, /cache holds %s' % (rank, workers, master, seen))
if rank == 0:
    mox.file.write(os.path.join(args.train_url, 'result.txt'), 'workers=%d files=%d' % (
        workers, len(mox.file.list_directory('/cache/data', recursive=True, skip_dir=True))))
