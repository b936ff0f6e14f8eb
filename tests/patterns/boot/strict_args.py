# Strict argument parsing: parse_args() refuses any parameter the platform adds that it does not declare (a v1 job's
# --num_gpus), online as here.
import argparse

parser = argparse.ArgumentParser()
parser.add_argument('--data_url')
parser.add_argument('--train_url')
args = parser.parse_args()
print('parsed', args)
