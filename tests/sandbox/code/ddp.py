"""PyTorch DDP (gloo, CPU) across the job's workers, rendezvous at the first of VC_WORKER_HOSTS."""

import argparse
import os
from datetime import timedelta

import torch
import torch.distributed as dist

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, default=29510)
a, _ = p.parse_known_args()
master = os.environ["VC_WORKER_HOSTS"].split(",")[0]
rank, world = int(os.environ["VC_TASK_INDEX"]), int(os.environ["VC_WORKER_NUM"])
dist.init_process_group("gloo", init_method=f"tcp://{master}:{a.port}", rank=rank, world_size=world,
                        timeout=timedelta(seconds=60))
total = torch.tensor([rank + 1.0])
dist.all_reduce(total)
print(f"rank {rank}: all_reduce {total.item()}", flush=True)
torch.manual_seed(0)
model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
model(torch.full((8, 4), rank + 1.0)).sum().backward()
grad = model.module.weight.grad.tolist()[0]
print(f"rank {rank}: ddp gradient {grad}", flush=True)
dist.destroy_process_group()
