"""Run by each Python under test (2.7 syntax): every mox.file call over a local OBS, printing what each answered."""
from __future__ import print_function

import errno
import json
import os
import sys

import moxing as mox

base = sys.argv[1]
bucket = 'obs://every-bkt/base'
answers = []


def note(name, value):
    answers.append([name, value])


def raised(call):
    try:
        call()
    except Exception as error:  # the kind of error is the answer: MoXing's class, else the errno (2.7 has one OSError)
        mox_kinds = [k.__name__ for k in type(error).__mro__ if k.__name__.startswith('Mox')]
        code = errno.errorcode.get(getattr(error, 'errno', None) or 0)
        return mox_kinds[:1] + ([code] if code else []) or [type(error).__name__]
    return None


mox.file.write(bucket + '/a.txt', 'alpha')
mox.file.append(bucket + '/a.txt', ' beta')
mox.file.write(bucket + '/sub/b.bin', b'\x00\x01', binary=True)
mox.file.append_remote(bucket + '/sub/b.bin', bucket + '/sub/c.bin')
mox.file.make_dirs(bucket + '/empty/deeper')
mox.file.mk_dir(bucket + '/empty/one')
note('read', mox.file.read(bucket + '/a.txt'))
note('read binary', list(bytearray(mox.file.read(bucket + '/sub/c.bin', binary=True))))
with mox.file.File(bucket + '/lines.txt', 'w') as f:
    f.write('one\ntwo\n')
with mox.file.File(bucket + '/lines.txt', 'r') as f:
    note('readlines', f.readlines())
with mox.file.File(bucket + '/lines.txt', 'rb') as f:
    note('size', f.size())
note('exists', [mox.file.exists(bucket + '/a.txt'), mox.file.exists(bucket + '/nope'), mox.file.exists('obs://No_Such_Bucket/x')])
note('is_directory', [mox.file.is_directory(bucket + '/sub'), mox.file.is_directory(bucket + '/a.txt')])
note('list', mox.file.list_directory(bucket))
note('list recursive', mox.file.list_directory(bucket, recursive=True))
note('list skip_dir', mox.file.list_directory(bucket, recursive=True, skip_dir=True))
note('list skip_file', mox.file.list_directory(bucket, recursive=True, skip_file=True, remove_sep=True))
note('glob', mox.file.glob(bucket + '/*.txt'))
st = mox.file.stat(bucket + '/a.txt')
note('stat', [st.length, st.is_directory, st.mtime_nsec > 0])
note('get_size', [mox.file.get_size(bucket + '/sub'), mox.file.get_size(bucket, recursive=True)])
note('walk', [[top, dirs, files] for top, dirs, files in mox.file.walk(bucket + '/sub')])
local = os.path.join(base, 'local')
mox.file.copy_parallel(bucket, local)
note('copy_parallel', sorted(os.path.relpath(os.path.join(r, n), local) for r, ds, fs in os.walk(local) for n in ds + fs))
mox.file.copy(bucket + '/a.txt', local + '/copied/a.txt')
mox.file.rename(local + '/copied/a.txt', bucket + '/moved.txt')
note('rename', [mox.file.exists(local + '/copied/a.txt'), mox.file.read(bucket + '/moved.txt')])
mox.file.remove(bucket + '/moved.txt')
mox.file.remove(bucket + '/empty', recursive=True)
note('remove', mox.file.list_directory(bucket))
mox.file.set_auth(ak='x', sk='y', retry=3)
mox.file.shift('os', 'mox')
note('shift', [os.path.exists(bucket + '/a.txt'), sorted(os.listdir(bucket + '/sub'))])
with open(bucket + '/shifted.txt', 'w') as f:
    f.write('via open')
mox.file.shift('mox', 'os')
note('after shift', mox.file.read(bucket + '/shifted.txt'))
note('errors', [raised(lambda: mox.file.stat(bucket + '/nope')), raised(lambda: mox.file.read('obs://No_Such_Bucket/x')),
                raised(lambda: mox.file.copy(bucket + '/sub', local + '/x')), raised(lambda: mox.file.copy_parallel(bucket + '/a.txt', local + '/y')),
                raised(lambda: mox.run()), raised(lambda: mox.file.mk_dir(bucket + '/no/parent'))])
mox.set_flag('num_gpus', 1)
mox.set_hyper_parameter('lr', 0.5)
note('run parameters', [mox.get_flag('num_gpus'), mox.get_flag('batch'), mox.get_hyper_parameter('lr'), mox.get_hyper_parameter('x', 7),
                        mox.ModeKeys.TRAIN, mox.ModeKeys.EXPORT])
print(json.dumps(answers, sort_keys=True))
